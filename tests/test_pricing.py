"""Pricing: every calculator with worked examples in exact fen, the version in force by
effective date, and parameter sets refused field by field."""
import datetime as dt
import html
import re
from types import SimpleNamespace

import pytest

from console.catalogue import items as catalogue
from console.catalogue import pricing, pricing_params
from console.catalogue.pricing import Rule
from console.common.money import format_yuan as yuan_text
from console.db import utcnow
from console.models import PricingRuleSet, ServiceItem, Supplier

PAST = dt.datetime(2024, 1, 1)
DRIVING = {"base_fen": 3900, "included_m": 5000, "per_km_fen": 350, "night_start": "22:00",
           "night_end": "06:00", "night_surcharge_fen": 2000, "timezone": "Asia/Shanghai"}
ESTIMATE = {"labour_tiers": [{"from_displacement_ml": 0, "labour_permille": 1000},
                             {"from_displacement_ml": 2000, "labour_permille": 1100},
                             {"from_displacement_ml": 3000, "labour_permille": 1250}],
            "parts_markup_permille": 50, "minimum_fen": 5000}


def shanghai(hour, minute, day=15):
    """A Shanghai wall-clock time as the naive UTC value the database stores."""
    return dt.datetime(2025, 3, day, hour, minute) - dt.timedelta(hours=8)


def rules(kind, parameters, version=1, effective_from=PAST, rule_id=None):
    return [Rule(kind, version, effective_from, parameters, rule_id)]


# ---- designated driving and butler fee ---------------------------------------------------
def test_designated_driving_12_3_km_at_23_10_is_base_plus_extra_km_plus_night_surcharge():
    charge = pricing.designated_driving_fee(12_300, shanghai(23, 10),
                                            rules("designated_driving_fee", DRIVING, 3, rule_id=7))
    # 3900 + (12.3 - 5) km × 350 + 2000 = 3900 + 2555 + 2000
    assert charge.amount == 8455
    assert dict(charge.breakdown) == {"base": 3900, "distance": 2555, "night_surcharge": 2000}
    assert (charge.rule_id, charge.rule_version) == (7, 3)


def test_the_same_drive_at_14_00_has_no_night_surcharge():
    charge = pricing.designated_driving_fee(12_300, shanghai(14, 0),
                                            rules("designated_driving_fee", DRIVING))
    assert charge.amount == 3900 + 2555


@pytest.mark.parametrize("hour, minute, night", [
    (21, 59, False), (22, 0, True), (23, 59, True), (0, 0, True), (5, 59, True), (6, 0, False),
])
def test_the_night_window_wraps_midnight_in_shanghai_time(hour, minute, night):
    charge = pricing.designated_driving_fee(1000, shanghai(hour, minute),
                                            rules("designated_driving_fee", DRIVING))
    assert charge.amount == 3900 + (2000 if night else 0)


def test_an_aware_start_time_is_read_in_the_rule_time_zone():
    start = dt.datetime(2025, 3, 15, 23, 10, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    charge = pricing.designated_driving_fee(0, start, rules("designated_driving_fee", DRIVING))
    assert dict(charge.breakdown)["night_surcharge"] == 2000


def test_a_half_fen_distance_charge_rounds_half_up():
    params = dict(DRIVING, per_km_fen=305)  # 7.3 km × 305 = 2226.5 fen
    charge = pricing.designated_driving_fee(12_300, shanghai(14, 0),
                                            rules("designated_driving_fee", params))
    assert dict(charge.breakdown)["distance"] == 2227


def test_a_drive_within_the_included_distance_costs_the_base_fare():
    charge = pricing.designated_driving_fee(4_999, shanghai(10, 0),
                                            rules("designated_driving_fee", DRIVING))
    assert charge.amount == 3900


def test_butler_fee_uses_its_own_rule_and_the_night_window():
    params = dict(DRIVING, base_fen=3000, included_m=5000, per_km_fen=200,
                  night_surcharge_fen=1000)
    charge = pricing.butler_fee(8_250, shanghai(22, 30), rules("butler_fee", params))
    assert charge.amount == 3000 + 650 + 1000  # 3.25 km × 200 = 650
    assert charge.kind == "butler_fee"


@pytest.mark.parametrize("distance", [-1, 12.3, "12300", None, True])
def test_a_distance_that_is_not_whole_metres_is_refused(distance):
    with pytest.raises(pricing.PricingError) as error:
        pricing.designated_driving_fee(distance, shanghai(10, 0),
                                       rules("designated_driving_fee", DRIVING))
    assert error.value.field == "distance_m"


# ---- versions by effective date ----------------------------------------------------------
def test_a_rule_that_starts_tomorrow_is_not_used_today_but_is_tomorrow():
    now = utcnow()
    today = Rule("refusal_bonus", 1, now - dt.timedelta(days=30),
                 {"per_event_fen": 500, "max_fen": 3000}, 1)
    tomorrow = Rule("refusal_bonus", 2, now + dt.timedelta(days=1),
                    {"per_event_fen": 800, "max_fen": 3000}, 2)
    assert pricing.refusal_bonus(2, [today, tomorrow]).amount == 1000
    assert pricing.refusal_bonus(2, [today, tomorrow]).rule_version == 1
    later = pricing.refusal_bonus(2, [today, tomorrow], at=now + dt.timedelta(days=2))
    assert (later.amount, later.rule_version) == (1600, 2)


def test_of_two_versions_with_the_same_date_the_higher_version_wins():
    older = Rule("loyalty_points", 1, PAST, {"points_per_yuan": 1})
    newer = Rule("loyalty_points", 2, PAST, {"points_per_yuan": 3})
    assert pricing.rule_in_force("loyalty_points", utcnow(), [newer, older]) is newer


def test_no_rule_in_force_is_a_clear_error_naming_the_kind():
    future = Rule("delivery_fee", 1, utcnow() + dt.timedelta(days=1),
                  {"default_fen": 0, "by_order_type": {}})
    with pytest.raises(pricing.PricingError) as error:
        pricing.delivery_fee("parts", [future])
    assert "delivery_fee" in str(error.value)


def test_the_seeded_rules_price_an_order_and_name_their_stored_version(app):
    stored = PricingRuleSet.rules()
    assert {r.kind for r in stored} == set(pricing_params.SCHEMAS)
    charge = pricing.designated_driving_fee(12_300, shanghai(23, 10), stored)
    seeded = PricingRuleSet.get(PricingRuleSet.kind == "designated_driving_fee")
    assert charge.rule_id == seeded.id
    assert charge.amount == 3900 + 690 + 2000  # 2.3 km beyond the included 10 km at ¥3


def test_loading_the_reference_data_again_adds_no_pricing_version(app):
    from console.system import seed
    before = [(r.kind, r.version) for r in PricingRuleSet.select().order_by(PricingRuleSet.id)]
    seed.load_reference()
    assert [(r.kind, r.version) for r in PricingRuleSet.select().order_by(PricingRuleSet.id)] \
        == before


def test_a_new_version_gets_the_next_number_and_takes_over_from_its_date(app):
    start = utcnow() + dt.timedelta(hours=1)
    rule = catalogue.create_rule_set("refusal_bonus", {"per_event_fen": 800, "max_fen": 4000},
                                     start, note="raise")
    assert rule.version == 2
    stored = PricingRuleSet.rules("refusal_bonus")
    assert pricing.refusal_bonus(1, stored).amount == 500
    assert pricing.refusal_bonus(1, stored, at=start).rule_id == rule.id


# ---- estimate, delivery, points, bonus --------------------------------------------------
def item(labour, parts=0):
    return SimpleNamespace(labour_price_fen=labour, parts_total_fen=parts)


def test_estimate_scales_labour_by_displacement_and_marks_up_parts():
    car = SimpleNamespace(displacement="2.5T")
    charge = pricing.estimate([item(12_345, 20_001), item(8_000)], car,
                              rules("estimate", ESTIMATE))
    # labour: 12345 × 1.1 = 13579.5 → 13580; 8000 × 1.1 = 8800. parts: 20001 × 1.05 = 21001.05
    assert dict(charge.breakdown) == {"labour": 22_380, "parts": 21_001, "minimum_top_up": 0}
    assert charge.amount == 43_381


def test_an_electric_car_takes_the_first_tier_and_a_small_job_is_topped_up_to_the_minimum():
    charge = pricing.estimate([item(3000)], SimpleNamespace(displacement="电动"),
                              rules("estimate", ESTIMATE))
    assert dict(charge.breakdown) == {"labour": 3000, "parts": 0, "minimum_top_up": 2000}
    assert charge.amount == 5000


def test_a_large_engine_takes_the_top_tier():
    charge = pricing.estimate([item(10_000)], SimpleNamespace(displacement="3.0L"),
                              rules("estimate", ESTIMATE))
    assert dict(charge.breakdown)["labour"] == 12_500


def test_delivery_fee_is_per_order_type_with_a_default():
    params = {"default_fen": 500, "by_order_type": {"parts": 1000, "maintenance": 0}}
    assert pricing.delivery_fee("parts", rules("delivery_fee", params)).amount == 1000
    assert pricing.delivery_fee("maintenance", rules("delivery_fee", params)).amount == 0
    assert pricing.delivery_fee("towing", rules("delivery_fee", params)).amount == 500
    with pytest.raises(pricing.PricingError):
        pricing.delivery_fee("spaceflight", rules("delivery_fee", params))


def test_loyalty_points_count_whole_yuan_only():
    assert pricing.loyalty_points(12_399, rules("loyalty_points", {"points_per_yuan": 2})
                                  ).amount == 246
    assert pricing.loyalty_points(99, rules("loyalty_points", {"points_per_yuan": 2})
                                  ).amount == 0


def test_refusal_bonus_grows_per_refusal_up_to_the_cap():
    params = rules("refusal_bonus", {"per_event_fen": 500, "max_fen": 3000})
    assert [pricing.refusal_bonus(n, params).amount for n in (0, 1, 3, 6, 9)] == \
        [0, 500, 1500, 3000, 3000]


# ---- parameter validation ----------------------------------------------------------------
def errors_of(kind, parameters):
    with pytest.raises(pricing_params.ParameterError) as error:
        pricing_params.validate(kind, parameters)
    return dict((path, str(message)) for path, message in error.value.errors)


def test_negative_money_is_refused_naming_the_field():
    errors = errors_of("designated_driving_fee", dict(DRIVING, per_km_fen=-300))
    assert errors == {"per_km_fen": "must not be negative"}


def test_float_money_is_refused_not_rounded():
    errors = errors_of("refusal_bonus", {"per_event_fen": 5.5, "max_fen": 3000})
    assert list(errors) == ["per_event_fen"]
    assert "whole number of fen" in errors["per_event_fen"] and "5.5" in errors["per_event_fen"]


def test_money_as_text_is_refused():
    errors = errors_of("refusal_bonus", {"per_event_fen": "500", "max_fen": 3000})
    assert "whole number of fen" in errors["per_event_fen"]


def test_missing_and_unknown_keys_are_each_reported():
    params = dict(DRIVING, perkm_fen=300)
    del params["per_km_fen"], params["timezone"]
    errors = errors_of("designated_driving_fee", params)
    assert errors == {"per_km_fen": "is required", "timezone": "is required",
                      "perkm_fen": "is not a known parameter"}


def test_bad_times_zones_tiers_and_order_types_are_refused_with_their_path():
    errors = errors_of("designated_driving_fee",
                       dict(DRIVING, night_start="25:00", timezone="Mars/Olympus"))
    assert set(errors) == {"night_start", "timezone"}
    tiers = [{"from_displacement_ml": 100, "labour_permille": 1000},
             {"from_displacement_ml": 50, "labour_permille": -1}]
    errors = errors_of("estimate", dict(ESTIMATE, labour_tiers=tiers))
    assert errors == {"labour_tiers[1].labour_permille": "must not be negative"}
    tiers[1]["labour_permille"] = 900
    errors = errors_of("estimate", dict(ESTIMATE, labour_tiers=tiers))
    assert set(errors) == {"labour_tiers[0].from_displacement_ml", "labour_tiers"}
    errors = errors_of("delivery_fee", {"default_fen": 0, "by_order_type": {"boats": 100}})
    assert errors == {"by_order_type.boats": "is not a known parameter"}


def test_a_bad_parameter_set_is_not_stored(app):
    before = PricingRuleSet.select().count()
    with pytest.raises(pricing_params.ParameterError):
        catalogue.create_rule_set("refusal_bonus", {"per_event_fen": -1, "max_fen": 1},
                                  utcnow())
    assert PricingRuleSet.select().count() == before


# ---- console pages -------------------------------------------------------------------------
def rule_form(form_token, **fields):
    return {"csrf_token": form_token("/admin/pricing_rules/new/"), "kind": "refusal_bonus",
            "effective_from": "2030-01-01T00:00", "note": "春节加价",
            "parameters": '{"per_event_fen": 800, "max_fen": 4000}', **fields}


def test_staff_publish_a_new_version_through_the_form(client, login_as, form_token):
    login_as("platform")
    response = client.post("/admin/pricing_rules/new/", data=rule_form(form_token))
    assert response.status_code == 302
    rule = PricingRuleSet.select().where(PricingRuleSet.kind == "refusal_bonus").order_by(
        PricingRuleSet.version.desc()).first()
    assert (rule.version, rule.parameters["per_event_fen"], rule.note) == (2, 800, "春节加价")
    assert rule.effective_from == dt.datetime(2029, 12, 31, 16, 0)  # Shanghai midnight, in UTC
    assert rule.created_by.email == "platform@demo.local"
    listing = client.get("/admin/pricing_rules/?flt0_0=refusal_bonus").get_data(as_text=True)
    assert "待生效" in listing and "生效中" in listing


@pytest.mark.parametrize("parameters, message", [
    ('{"per_event_fen": -800, "max_fen": 4000}', "per_event_fen: 不能为负数"),
    ('{"per_event_fen": 8.5, "max_fen": 4000}', "per_event_fen: 必须是整数（分），不能是小数 8.5"),
    ('{"per_event_fen": 800}', "max_fen: 为必填项"),
    ('{"per_event_fen": 800, max_fen: 1}', "参数：不是有效的 JSON"),
])
def test_bad_parameters_in_the_form_are_refused_naming_the_field(client, login_as, form_token,
                                                                 parameters, message):
    login_as("platform")
    before = PricingRuleSet.select().count()
    page = client.post("/admin/pricing_rules/new/", data=rule_form(
        form_token, parameters=parameters)).get_data(as_text=True)
    assert message in page
    assert PricingRuleSet.select().count() == before


def test_a_version_is_never_edited_in_place(client, login_as):
    login_as("platform")
    rule = PricingRuleSet.get(PricingRuleSet.kind == "butler_fee")
    assert client.get(f"/admin/pricing_rules/edit/?id={rule.id}").status_code == 403
    page = html.unescape(client.get(f"/admin/pricing_rules/new/?copy={rule.id}").get_data(
        as_text=True))
    assert '"per_km_fen": 200' in page and '<option selected value="butler_fee">' in page


def test_the_calculator_shows_each_fee_with_the_rule_version_used(client, login_as):
    login_as("finance")
    item = ServiceItem.select().join(Supplier).where(
        Supplier.code == "SH001", ServiceItem.review_status == "approved").first()
    page = client.get("/admin/pricing_preview/", query_string={
        "at": "2025-03-15T23:10", "distance_km": "12.3", "order_type": "parts",
        "paid_yuan": "123.99", "refusals": "2", "items": item.code}).get_data(as_text=True)
    rows = dict(re.findall(r'<tr data-kind="(\w+)">(.*?)</tr>', page, re.S))
    assert "¥65.90" in rows["designated_driving_fee"] and "v1" in rows["designated_driving_fee"]
    assert "¥54.60" in rows["butler_fee"]  # 30 + 7.3 km × 2 + 10 night
    assert "¥10.00" in rows["delivery_fee"] and "¥10.00" in rows["refusal_bonus"]
    assert ">123<" in rows["loyalty_points"]
    # no car model: the first labour tier (×1.0) and no parts markup in the seeded rule
    assert yuan_text(item.total_fen) in rows["estimate"]
    assert client.get("/admin/pricing_rules/new/").status_code == 403


def test_a_supplier_admin_cannot_reach_the_pricing_pages(client, login_as):
    login_as("supplier")
    assert client.get("/admin/pricing_rules/").status_code == 403
    assert client.get("/admin/pricing_preview/").status_code == 403
