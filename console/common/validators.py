"""Validation of the identifiers operations staff type: VINs (ISO 3779 with the check digit that
China's GB 16735 makes mandatory), Chinese licence plates (GA 36-2018, including new-energy
plates) and mainland mobile numbers. Each check returns the normalized value or raises
`InvalidValue` whose message names the field and the reason in the user's language."""
import re

from flask_babel import gettext as _

from console.errors import InputError


class InvalidValue(InputError):
    """Bad input for one field; the message is already translated."""


# ---- VIN -----------------------------------------------------------------------------
VIN_LENGTH = 17
VIN_CHECK_POSITION = 9  # 1-based
VIN_WEIGHTS = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)
# ISO 3779 transliteration: letters take the values below; I, O and Q never appear
VIN_VALUES = {**{str(d): d for d in range(10)},
              **dict(zip("ABCDEFGH", range(1, 9), strict=True)),
              **dict(zip("JKLMN", range(1, 6), strict=True)), "P": 7, "R": 9,
              **dict(zip("STUVWXYZ", range(2, 10), strict=True))}


def vin_check_digit(vin):
    """The check character for the 17 characters of `vin` (the 9th is ignored): the weighted
    sum of transliterated values modulo 11, with 10 written as X."""
    remainder = sum(VIN_VALUES[c] * w for c, w in zip(vin, VIN_WEIGHTS, strict=True)) % 11
    return "X" if remainder == 10 else str(remainder)


def validate_vin(value, field="vin"):
    vin = re.sub(r"[\s-]", "", value or "").upper()
    if not vin:
        raise InvalidValue(field, _("VIN: required"))
    if len(vin) != VIN_LENGTH:
        raise InvalidValue(field, _("VIN: must be 17 characters, not %(count)d",
                                    count=len(vin)))
    forbidden = sorted({c for c in vin if c in "IOQ"})
    if forbidden:
        raise InvalidValue(field, _("VIN: the letters I, O and Q are not allowed (found "
                                    "%(letters)s)", letters=", ".join(forbidden)))
    strange = sorted({c for c in vin if c not in VIN_VALUES})
    if strange:
        raise InvalidValue(field, _("VIN: only letters and digits are allowed (found "
                                    "%(chars)s)", chars=" ".join(strange)))
    expected = vin_check_digit(vin)
    if vin[VIN_CHECK_POSITION - 1] != expected:
        raise InvalidValue(field, _("VIN: check digit (9th character) is %(found)s but the "
                                    "other characters require %(expected)s",
                                    found=vin[VIN_CHECK_POSITION - 1], expected=expected))
    return vin


# ---- licence plates ------------------------------------------------------------------
PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
_ALNUM = "A-HJ-NP-Z0-9"  # plates never use I or O (they read as 1 and 0)
_LETTER = "A-HJ-NP-Z"
# New-energy letters: D and F from GA 36-2018; since 2022 A/B/C/E (pure electric) and
# G/H/J/K (other new energy) are issued too where D/F numbers ran out.
_NEV_PURE, _NEV_OTHER = "DABCE", "FGHJK"
PLATE_FORMATS = (
    # (kind, pattern after the province character)
    ("regular", rf"[{_LETTER}][{_ALNUM}]{{5}}"),
    ("new_energy_small", rf"[{_LETTER}][{_NEV_PURE}{_NEV_OTHER}][{_ALNUM}][0-9]{{4}}"),
    ("new_energy_large", rf"[{_LETTER}][0-9]{{5}}[DF]"),
    ("coach", rf"[{_LETTER}][{_ALNUM}]{{4}}学"),
    ("police", rf"[{_LETTER}][{_ALNUM}]{{4}}警"),
    ("trailer", rf"[{_LETTER}][{_ALNUM}]{{4}}挂"),
    ("hk_macau", rf"Z[{_ALNUM}]{{4}}[港澳]"),
    ("consulate", rf"[{_LETTER}][0-9]{{4}}领"),
)
PLATE_KINDS = [kind for kind, _pattern in PLATE_FORMATS] + ["embassy"]
_EMBASSY = re.compile(r"使[0-9]{6}")


def plate_kind(plate):
    """The format a normalized plate has, or None."""
    if _EMBASSY.fullmatch(plate):
        return "embassy"
    if not plate or plate[0] not in PROVINCES:
        return None
    for kind, pattern in PLATE_FORMATS:
        if re.fullmatch(pattern, plate[1:]):
            return kind
    return None


def validate_plate(value, field="plate"):
    plate = re.sub(r"[\s·.\-]", "", value or "").upper()
    if not plate:
        raise InvalidValue(field, _("Plate: required"))
    if plate_kind(plate):
        return plate
    if plate[0] not in PROVINCES and not plate.startswith("使"):
        raise InvalidValue(field, _("Plate: must start with a province abbreviation such as "
                                    "京, 沪 or 粤, not %(first)s", first=plate[0]))
    if len(plate) not in (7, 8):
        raise InvalidValue(field, _("Plate: must have 7 characters (8 for new-energy "
                                    "vehicles), not %(count)d", count=len(plate)))
    if "I" in plate or "O" in plate:
        raise InvalidValue(field, _("Plate: the letters I and O are not used on plates"))
    if len(plate) == 8:
        raise InvalidValue(field, _("Plate: a small new-energy plate has D or F (or A, B, "
                                    "C, E, G, H, J, K) as the 3rd character, then a letter or "
                                    "digit and 4 digits; a large one has 5 digits and then D "
                                    "or F"))
    raise InvalidValue(field, _("Plate: %(plate)s is not a valid plate number", plate=plate))


# ---- mobile numbers ------------------------------------------------------------------
_MOBILE = re.compile(r"1[3-9][0-9]{9}")


def validate_mobile(value, field="mobile"):
    mobile = re.sub(r"[\s-]", "", value or "")
    if mobile.startswith("+86"):
        mobile = mobile[3:]
    elif mobile.startswith("0086"):
        mobile = mobile[4:]
    if not mobile:
        raise InvalidValue(field, _("Mobile: required"))
    if not mobile.isdigit():
        raise InvalidValue(field, _("Mobile: only digits are allowed"))
    if len(mobile) != 11:
        raise InvalidValue(field, _("Mobile: a mainland mobile number has 11 digits, not "
                                    "%(count)d", count=len(mobile)))
    if not _MOBILE.fullmatch(mobile):
        raise InvalidValue(field, _("Mobile: a mainland mobile number starts with 13 to 19"))
    return mobile
