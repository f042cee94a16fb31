"""The parameter schema of each pricing kind. A stored parameter set is plain JSON; these specs
check it field by field before it is saved, so every calculator can trust what it reads.
Money is integer fen everywhere: 12.5 or "12.50" is refused, never rounded."""
import re
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask_babel import lazy_gettext as _l

from console.errors import InputError
from console.models import PRICING_KINDS
from console.orders.types import SERVICE_TYPES

MAX_FEN = 100_000_000  # ¥1,000,000: far above any fee, low enough to catch a typo
CLOCK = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


class ParameterError(InputError):
    """Bad parameters; `errors` lists (field path, message) pairs."""

    def __init__(self, errors):
        self.errors = list(errors)
        super().__init__("parameters", self.message)

    @property
    def message(self):
        return "; ".join(f"{path}: {message}" for path, message in self.errors)


class Whole:
    """A whole number within [minimum, maximum]; `unit` names it in messages."""

    def __init__(self, unit, minimum=0, maximum=MAX_FEN):
        self.unit, self.minimum, self.maximum = unit, minimum, maximum

    def check(self, value, path, errors):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            errors.append((path, _l("must be a whole number of %(unit)s, not %(value)r",
                                    unit=self.unit, value=value)))
        elif isinstance(value, float):
            errors.append((path, _l("must be a whole number of %(unit)s (integer), not the "
                                    "decimal %(value)s", unit=self.unit, value=value)))
        elif value < 0 <= self.minimum:
            errors.append((path, _l("must not be negative")))
        elif not self.minimum <= value <= self.maximum:
            errors.append((path, _l("must be between %(low)s and %(high)s",
                                    low=self.minimum, high=self.maximum)))


def fen():
    return Whole(_l("fen"))


def permille():
    return Whole(_l("per mille"), maximum=100_000)


class Clock:
    def check(self, value, path, errors):
        if not isinstance(value, str) or not CLOCK.match(value):
            errors.append((path, _l("must be a time of day as HH:MM, e.g. 22:00")))


class TimeZone:
    def check(self, value, path, errors):
        try:
            ZoneInfo(str(value))
        except (ZoneInfoNotFoundError, ValueError):
            errors.append((path, _l("unknown time zone %(value)r", value=value)))


class Record:
    """An object with exactly these keys."""

    def __init__(self, fields, optional=()):
        self.fields, self.optional = fields, set(optional)

    def check(self, value, path, errors):
        if not isinstance(value, dict):
            errors.append((path or "parameters", _l("must be an object of named values")))
            return
        for key, spec in self.fields.items():
            where = f"{path}.{key}" if path else key
            if key in value:
                spec.check(value[key], where, errors)
            elif key not in self.optional:
                errors.append((where, _l("is required")))
        for key in value:
            if key not in self.fields:
                errors.append((f"{path}.{key}" if path else key, _l("is not a known parameter")))


class FenByOrderType(Record):
    """Fen per order type; order types left out fall back to the set's default."""

    def __init__(self):
        super().__init__({t: fen() for t in SERVICE_TYPES}, optional=SERVICE_TYPES)


class Tiers:
    """A non-empty list of records ordered by `start`, the first starting at 0."""

    def __init__(self, record, start):
        self.record, self.start = record, start

    def check(self, value, path, errors):
        if not isinstance(value, list) or not value:
            errors.append((path, _l("must be a non-empty list")))
            return
        before = len(errors)
        for index, tier in enumerate(value):
            self.record.check(tier, f"{path}[{index}]", errors)
        if len(errors) > before:
            return
        starts = [tier[self.start] for tier in value]
        if starts[0] != 0:
            errors.append((f"{path}[0].{self.start}", _l("the first tier must start at 0")))
        if any(b <= a for a, b in zip(starts, starts[1:], strict=False)):
            errors.append((path, _l("tiers must be in increasing order of %(key)s",
                                    key=self.start)))


def _distance_fee():
    return Record({
        "base_fen": fen(), "included_m": Whole(_l("metres"), maximum=1_000_000),
        "per_km_fen": fen(), "night_start": Clock(), "night_end": Clock(),
        "night_surcharge_fen": fen(), "timezone": TimeZone(),
    })


SCHEMAS = {
    "estimate": Record({
        "labour_tiers": Tiers(Record({
            "from_displacement_ml": Whole(_l("millilitres"), maximum=20_000),
            "labour_permille": permille()}), start="from_displacement_ml"),
        "parts_markup_permille": permille(),
        "minimum_fen": fen(),
    }),
    "butler_fee": _distance_fee(),
    "designated_driving_fee": _distance_fee(),
    "delivery_fee": Record({"default_fen": fen(), "by_order_type": FenByOrderType()}),
    "loyalty_points": Record({"points_per_yuan": Whole(_l("points"), maximum=1000)}),
    "refusal_bonus": Record({"per_event_fen": fen(), "max_fen": fen()}),
}
assert set(SCHEMAS) == set(PRICING_KINDS)


def validate(kind, parameters):
    """Raise ParameterError naming each bad field; return the parameters unchanged if good."""
    if kind not in SCHEMAS:
        raise ParameterError([("kind", _l("unknown pricing kind %(kind)r", kind=kind))])
    errors = []
    SCHEMAS[kind].check(parameters, "", errors)
    if errors:
        raise ParameterError(errors)
    return parameters


def field_names(kind):
    """The top-level parameter names of a kind, for the form's help text."""
    return list(SCHEMAS[kind].fields)
