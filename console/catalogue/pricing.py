"""Fees computed from versioned pricing rule sets. Pure functions: each takes the rule sets
(`PricingRuleSet` rows or `Rule` values), picks the version in force at the given moment, and
returns a `Charge` with the amount in integer fen (points for loyalty), the version used — which
the order records — and a breakdown. Rounding is explicit: Decimal, ROUND_HALF_UP to the fen."""
import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l

from console.db import utcnow
from console.errors import InputError
from console.orders.types import SERVICE_TYPES


class PricingError(InputError):
    """A calculation that cannot be done: the message names the input and the reason."""


@dataclass(frozen=True)
class Rule:
    """A rule set outside the database (tests, previews); rows of PricingRuleSet fit too."""
    kind: str
    version: int
    effective_from: dt.datetime
    parameters: dict
    id: int | None = None


@dataclass(frozen=True)
class Charge:
    kind: str
    amount: int  # fen; loyalty points for "loyalty_points"
    rule_id: int | None
    rule_version: int
    breakdown: tuple = field(default=())  # ((component, amount), ...)


def round_fen(value: Decimal) -> int:
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def as_utc(moment):
    """Naive datetimes are UTC (as stored); aware ones are converted."""
    if moment is None:
        return utcnow()
    if moment.tzinfo is not None:
        return moment.astimezone(dt.timezone.utc).replace(tzinfo=None)
    return moment


def rule_in_force(kind, at, rules):
    """The version of `kind` in force at `at`: the latest effective date not after it (the
    higher version wins a tie). A version starting later is not used before its date."""
    at = as_utc(at)
    candidates = [r for r in rules if r.kind == kind and r.effective_from <= at]
    if not candidates:
        raise PricingError("kind", _l("No %(kind)s pricing rule is in force at %(at)s (UTC).",
                                      kind=kind, at=at.strftime("%Y-%m-%d %H:%M")))
    return max(candidates, key=lambda r: (r.effective_from, r.version))


def _charge(rule, amount, **parts):
    return Charge(rule.kind, amount, rule.id, rule.version, tuple(parts.items()))


def _whole(name, value):
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise PricingError(name, _l("%(name)s must be a whole number ≥ 0, not %(value)r",
                                    name=name, value=value))
    return value


# ---- distance fees: butler and designated driving -------------------------------------
def is_night(moment, params):
    """Whether `moment` (UTC) falls in the rule's night window, read in the rule's time zone.
    The window may wrap midnight (22:00–06:00); equal ends mean no night window."""
    local = as_utc(moment).replace(tzinfo=dt.timezone.utc).astimezone(ZoneInfo(params["timezone"]))
    start, end = params["night_start"], params["night_end"]
    now = local.strftime("%H:%M")
    if start == end:
        return False
    return start <= now < end if start < end else (now >= start or now < end)


def _distance_fee(kind, distance_m, moment, rules):
    distance_m = _whole("distance_m", distance_m)
    rule = rule_in_force(kind, moment, rules)
    params = rule.parameters
    extra_m = max(0, distance_m - params["included_m"])
    distance = round_fen(Decimal(extra_m) * params["per_km_fen"] / 1000)
    night = params["night_surcharge_fen"] if is_night(moment, params) else 0
    return _charge(rule, params["base_fen"] + distance + night,
                   base=params["base_fen"], distance=distance, night_surcharge=night)


def butler_fee(distance_m, at, rules):
    """Butler fetch/return fee: base, the metres beyond the included distance at the per-km
    price, and the night surcharge when `at` falls in the night window."""
    return _distance_fee("butler_fee", distance_m, at, rules)


def designated_driving_fee(distance_m, start_time, rules):
    """代驾: priced by the rule in force when the drive starts, night read from the start."""
    return _distance_fee("designated_driving_fee", distance_m, start_time, rules)


# ---- estimate ----------------------------------------------------------------------------
def displacement_ml(car_model):
    """'1.5T' → 1500, '2.0L' → 2000, '电动' (EV) or unknown → 0."""
    text = str(getattr(car_model, "displacement", "") or "") if car_model is not None else ""
    match = re.search(r"\d+(?:\.\d+)?", text)
    return round_fen(Decimal(match.group()) * 1000) if match else 0


def _labour_permille(tiers, ml):
    return [t for t in tiers if t["from_displacement_ml"] <= ml][-1]["labour_permille"]


def estimate(items, car_model, rules, at=None):
    """预报价 for service items on a car model: labour scaled by the displacement tier (each
    item rounded), parts with the markup (rounded once), and at least the minimum."""
    rule = rule_in_force("estimate", at, rules)
    params = rule.parameters
    items = list(items)
    permille = _labour_permille(params["labour_tiers"], displacement_ml(car_model))
    labour = sum(round_fen(Decimal(i.labour_price_fen) * permille / 1000) for i in items)
    parts_cost = sum(i.parts_total_fen for i in items)
    parts = round_fen(Decimal(parts_cost) * (1000 + params["parts_markup_permille"]) / 1000)
    subtotal = labour + parts
    top_up = max(0, params["minimum_fen"] - subtotal) if items else 0
    return _charge(rule, subtotal + top_up, labour=labour, parts=parts, minimum_top_up=top_up)


# ---- flat fees, points and bonuses ----------------------------------------------------
def delivery_fee(order_type, rules, at=None):
    if order_type not in SERVICE_TYPES:
        raise PricingError("order_type", _l("unknown order type %(value)r", value=order_type))
    rule = rule_in_force("delivery_fee", at, rules)
    params = rule.parameters
    amount = params["by_order_type"].get(order_type, params["default_fen"])
    return _charge(rule, amount, delivery=amount)


def loyalty_points(paid_fen, rules, at=None):
    """Points for an amount paid: points per whole yuan (a started yuan earns nothing, so a
    refund of part of an order never takes back more than it gave)."""
    paid_fen = _whole("paid_fen", paid_fen)
    rule = rule_in_force("loyalty_points", at, rules)
    yuan = (Decimal(paid_fen) / 100).quantize(Decimal(1), rounding=ROUND_DOWN)
    points = int(yuan) * rule.parameters["points_per_yuan"]
    return _charge(rule, points, points=points)


def refusal_bonus(refusal_or_timeout_count, rules, at=None):
    """Bonus added to an order each time it is refused or times out, up to the cap."""
    count = _whole("refusal_or_timeout_count", refusal_or_timeout_count)
    rule = rule_in_force("refusal_bonus", at, rules)
    params = rule.parameters
    amount = min(count * params["per_event_fen"], params["max_fen"])
    return _charge(rule, amount, bonus=amount)
