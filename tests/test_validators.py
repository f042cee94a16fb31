"""VINs, Chinese licence plates and mainland mobile numbers: real valid samples pass (and come
back normalized), real invalid ones are refused with a message naming the field and the reason
in both languages."""
import pytest
from flask_babel import force_locale

from console.common.validators import (
    InvalidValue,
    plate_kind,
    validate_mobile,
    validate_plate,
    validate_vin,
    vin_check_digit,
)

# Check digits worked out by hand (ISO 3779: transliterate, weight 8 7 6 5 4 3 2 10 _ 9 8 7 6 5
# 4 3 2, sum, modulo 11, 10 -> X):
#   LSVAM4187C2184847: L3×8=24 S2×7=14 V5×6=30 A1×5=5 M4×4=16 4×3=12 1×2=2 8×10=80 (9th ×0)
#     C3×9=27 2×8=16 1×7=7 8×6=48 4×5=20 8×4=32 4×3=12 7×2=14 -> 359 = 32×11 + 7 -> "7"
#   1M8GDM9AXKP042788: the textbook example; the sum is 351 = 31×11 + 10 -> "X"
#   LFV2A21K6E4181230: L24 F6×7=42 V30 2×5=10 A1×4=4 2×3=6 1×2=2 K2×10=20 E5×9=45 4×8=32
#     1×7=7 8×6=48 1×5=5 2×4=8 3×3=9 0 -> 292 = 26×11 + 6 -> "6"
VALID_VINS = ["LSVAM4187C2184847", "1M8GDM9AXKP042788", "LFV2A21K6E4181230",
              "11111111111111111"]


@pytest.mark.parametrize("vin", VALID_VINS)
def test_real_vins_with_correct_check_digits_pass(vin):
    assert vin_check_digit(vin) == vin[8]
    assert validate_vin(vin) == vin


def test_a_vin_is_normalized_to_capitals_without_spaces():
    assert validate_vin(" lsvam4187c2 184847 ") == "LSVAM4187C2184847"


@pytest.mark.parametrize("vin, expected", [
    ("LSVAM4186C2184847", "require 7"),  # 9th character changed from 7 to 6
    ("LSVAM4187C2184848", "require 9"),  # last character 7 -> 8: the sum grows by 2 -> 361
    ("1M8GDM9A1KP042788", "require X"),
])
def test_a_vin_with_a_wrong_check_digit_is_refused(vin, expected):
    with pytest.raises(InvalidValue) as error:
        validate_vin(vin)
    assert error.value.field == "vin"
    assert "check digit" in error.value.message and expected in error.value.message


@pytest.mark.parametrize("vin, letters", [
    ("LSVAM4187C2I84847", "I"), ("LSVAM4187C2O84847", "O"), ("LSVAM4187C2Q84847", "Q"),
])
def test_a_vin_with_i_o_or_q_is_refused(vin, letters):
    with pytest.raises(InvalidValue) as error:
        validate_vin(vin)
    assert "I, O and Q" in error.value.message and f"found {letters}" in error.value.message


@pytest.mark.parametrize("vin, reason", [
    ("LSVAM4187C218484", "not 16"), ("LSVAM4187C21848471", "not 18"), ("", "required"),
    ("LSVAM4187C2#84847", "only letters and digits"),
])
def test_a_vin_of_the_wrong_shape_is_refused(vin, reason):
    with pytest.raises(InvalidValue) as error:
        validate_vin(vin)
    assert reason in error.value.message


@pytest.mark.parametrize("plate, kind", [
    ("京A12345", "regular"),
    ("沪B8K2J7", "regular"),            # letters allowed among the 5 serial characters
    ("沪AD12345", "new_energy_small"),   # D (pure electric) at the 3rd position
    ("京AFA1234", "new_energy_small"),   # F (other new energy), then a letter and 4 digits
    ("粤B12345D", "new_energy_large"),   # large new-energy vehicle: 5 digits then D/F
    ("粤B12345F", "new_energy_large"),
    ("京A1234学", "coach"),
    ("沪A0001警", "police"),
    ("冀A1234挂", "trailer"),
    ("粤Z1234港", "hk_macau"),
    ("粤Z1234澳", "hk_macau"),
    ("沪A1234领", "consulate"),
    ("使123456", "embassy"),
    ("新A12345", "regular"), ("藏A12345", "regular"), ("琼B12345", "regular"),
])
def test_plates_of_every_format_pass(plate, kind):
    assert validate_plate(plate) == plate
    assert plate_kind(plate) == kind


def test_a_plate_is_normalized_to_capitals_without_separators():
    assert validate_plate("京a·12345") == "京A12345"
    assert validate_plate("沪ad 12345") == "沪AD12345"


@pytest.mark.parametrize("plate, reason", [
    ("AA12345", "province abbreviation"),       # no province
    ("港A12345", "province abbreviation"),      # not a province abbreviation
    ("京A1234", "not 6"),                       # too short
    ("京A1234567", "not 9"),                    # too long
    ("京A1O345", "I and O"),                    # O is never used
    ("京I12345", "I and O"),
    ("沪AL12345", "new-energy"),                # 8 characters but L is not a new-energy letter
    ("粤B1234AD", "new-energy"),                # large new-energy needs 5 digits before D
    ("沪ADA12B4", "new-energy"),                # small new-energy ends in 4 digits
    ("京A123#5", "not a valid plate"),
    ("", "required"),
])
def test_invalid_plates_are_refused_with_the_reason(plate, reason):
    with pytest.raises(InvalidValue) as error:
        validate_plate(plate)
    assert error.value.field == "plate"
    assert reason in error.value.message


@pytest.mark.parametrize("raw, mobile", [
    ("13812345678", "13812345678"), ("+86 138-1234-5678", "13812345678"),
    ("0086 19912345678", "19912345678"), ("166 0000 1111", "16600001111"),
])
def test_mainland_mobiles_pass_normalized(raw, mobile):
    assert validate_mobile(raw) == mobile


@pytest.mark.parametrize("raw, reason", [
    ("12812345678", "13 to 19"), ("1381234567", "not 10"), ("138123456789", "not 12"),
    ("138abc45678", "only digits"), ("", "required"), ("02112345678", "13 to 19"),
])
def test_invalid_mobiles_are_refused_with_the_reason(raw, reason):
    with pytest.raises(InvalidValue) as error:
        validate_mobile(raw)
    assert error.value.field == "mobile" and reason in error.value.message


@pytest.mark.parametrize("check, value, english, chinese", [
    (validate_vin, "LSVAM4186C2184847", "VIN: check digit", "车架号：第 9 位校验位"),
    (validate_vin, "LSVAM4187C2I84847", "VIN: the letters I, O and Q", "车架号：不能使用字母"),
    (validate_plate, "AA12345", "Plate: must start with a province", "车牌号：必须以省份简称"),
    (validate_plate, "沪AL12345", "Plate: a small new-energy plate", "车牌号：小型新能源"),
    (validate_mobile, "12812345678", "Mobile: a mainland mobile", "手机号：大陆手机号"),
])
def test_each_error_names_the_field_and_reason_in_both_languages(app, check, value, english,
                                                                 chinese):
    with app.test_request_context():
        for locale, expected in (("en", english), ("zh_Hans_CN", chinese)):
            with force_locale(locale), pytest.raises(InvalidValue) as error:
                check(value)
            assert error.value.message.startswith(expected), error.value.message
