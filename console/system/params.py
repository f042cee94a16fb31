"""Platform parameters (参数设置): the values operators tune without a deploy — the grab window
per city and order type, VIP plan prices, lockout thresholds, reminder lead times.

Each parameter is declared once in REGISTRY (key, unit, default, bounds, the most specific
scope it may be set at, zh/en label and help). Values live in `ParamValue` rows with an
effective time; `param(key, city=…, order_type=…)` is the one reader: it resolves the most
specific scope in force (city × type, then city, then type, then global, then the default),
cached per process and reloaded when the shared version counter moves (every change bumps
it), so every worker sees a change on its next request."""
import datetime as dt
import time
from dataclasses import dataclass

from flask import has_request_context
from flask_babel import lazy_gettext as _l

from console.common.money import format_yuan, parse_yuan
from console.db import db, utcnow
from console.errors import ConflictError, InputError, NotFound
from console.models import Organization, ParamValue
from console.orders.types import ORDER_TYPES
from console.system import audit, rbac

SCOPES = ("global", "city", "order_type", "city_order_type")
# the overrides a scope allows, most specific first: (city set?, order type set?)
LEVELS = {"global": ((False, False),),
          "city": ((True, False), (False, False)),
          "order_type": ((False, True), (False, False)),
          "city_order_type": ((True, True), (True, False), (False, True), (False, False))}
UNITS = {"minutes": _l("minutes"), "seconds": _l("seconds"), "hours": _l("hours"),
         "days": _l("days"), "count": _l("times"), "cars": _l("cars"), "fen": _l("yuan"),
         "percent": "%",
         "bool": ""}


@dataclass(frozen=True)
class Param:
    key: str  # area.name
    unit: str  # a key of UNITS
    default: object
    label: object  # lazy text
    help: object
    scope: str = "global"
    minimum: int = 0
    maximum: int = 1_000_000
    sensitive: bool = False  # security settings: need their own permission to change

    @property
    def area(self):
        return self.key.split(".", 1)[0]

    def check(self, value):
        """A stored value of this parameter, or InputError naming the field `value`."""
        if self.unit == "bool":
            if not isinstance(value, bool):
                raise InputError("value", _l("Value: yes or no."))
            return value
        if isinstance(value, bool) or not isinstance(value, int):
            raise InputError("value", _l("Value: a whole number."))
        if not self.minimum <= value <= self.maximum:
            raise InputError("value", _l("Value: from %(low)s to %(high)s.",
                                         low=self.show(self.minimum), high=self.show(self.maximum)))
        return value

    def parse(self, text):
        """A value as typed in the console (yuan for money, 是/yes for booleans)."""
        text = (text or "").strip()
        if self.unit == "bool":
            if text.lower() not in ("1", "0", "true", "false", "yes", "no", "是", "否"):
                raise InputError("value", _l("Value: yes or no."))
            return self.check(text.lower() in ("1", "true", "yes", "是"))
        if self.unit == "fen":
            return self.check(parse_yuan(text, "value", _l("Value")))
        if not text.lstrip("-").isdigit() or len(text) > 12:
            raise InputError("value", _l("Value: a whole number."))
        return self.check(int(text))

    def show(self, value):
        if self.unit == "fen":
            return format_yuan(value)
        if self.unit == "bool":
            return str(_l("Yes") if value else _l("No"))
        if self.unit == "percent":
            return f"{value}%"
        return f"{value} {UNITS[self.unit]}"

    def as_input(self, value):
        if self.unit == "fen":
            return format_yuan(value, symbol=False, grouping=False)
        if self.unit == "bool":
            return "yes" if value else "no"
        return str(value)


REGISTRY = {p.key: p for p in (
    Param("dispatch.grab_window", "minutes", 10, _l("Grab window"),
          _l("How long a task waits in the task hall for a butler to grab it before it moves "
             "to the dispatch board."), scope="city_order_type", minimum=1, maximum=240),
    Param("dispatch.max_load", "count", 3, _l("Open orders per butler"),
          _l("A butler holding this many open orders is not proposed for more."),
          scope="city", minimum=1, maximum=20),
    Param("dispatch.weight_distance", "percent", 40, _l("Ranking weight: distance"),
          _l("Share of a candidate's score for being near the pickup (0 km scores in full, "
             "20 km or more nothing)."), minimum=0, maximum=100),
    Param("dispatch.weight_load", "percent", 20, _l("Ranking weight: load"),
          _l("Share of the score for holding few open orders (none scores in full)."),
          minimum=0, maximum=100),
    Param("dispatch.weight_stars", "percent", 15, _l("Ranking weight: stars"),
          _l("Share of the score for the butler's stars (5 stars score in full)."),
          minimum=0, maximum=100),
    Param("dispatch.weight_refusals", "percent", 10, _l("Ranking weight: refusals"),
          _l("Share of the score for refusing seldom (no refusals score in full)."),
          minimum=0, maximum=100),
    Param("dispatch.weight_licence", "percent", 5, _l("Ranking weight: licence points"),
          _l("Share of the score for the licence points left (12 score in full)."),
          minimum=0, maximum=100),
    Param("dispatch.weight_online", "percent", 10, _l("Ranking weight: online"),
          _l("Share of the score for being online in the app now."), minimum=0, maximum=100),
    Param("membership.vip_price_1", "fen", 3000, _l("VIP plan: 1 month"),
          _l("Price of one month of VIP membership."), minimum=100, maximum=1_000_000),
    Param("membership.vip_price_3", "fen", 8000, _l("VIP plan: 3 months"),
          _l("Price of three months of VIP membership."), minimum=100, maximum=1_000_000),
    Param("membership.vip_price_12", "fen", 29800, _l("VIP plan: 12 months"),
          _l("Price of a year of VIP membership."), minimum=100, maximum=1_000_000),
    Param("appointments.slot_capacity", "cars", 2, _l("Cars per appointment slot"),
          _l("How many cars a shop takes in one time slot when it opens slots without saying."),
          scope="city", minimum=1, maximum=1000),
    Param("certification.remind_days", "days", 30, _l("Certificate expiry reminder"),
          _l("How many days before a supplier's certificate expires its staff are reminded."),
          minimum=1, maximum=180),
    Param("certification.valid_days", "days", 365, _l("Certificate validity"),
          _l("How long an approved certification is valid unless the reviewer sets a date."),
          minimum=30, maximum=1095),
    Param("security.login_max_failures", "count", 5, _l("Wrong passwords before lockout"),
          _l("Failed logins of one account from one address within the window that lock the "
             "account at that address (the owner elsewhere still gets in)."),
          minimum=3, maximum=20, sensitive=True),
    Param("security.login_lock_minutes", "minutes", 15, _l("Lockout duration"),
          _l("How long an account stays locked at an address after too many failures."),
          minimum=1, maximum=1440, sensitive=True),
    Param("security.login_window_minutes", "minutes", 15, _l("Failed-login window"),
          _l("The period in which failed logins are counted."), minimum=1, maximum=1440,
          sensitive=True),
    Param("security.ip_max_failures", "count", 30, _l("Failed logins per address"),
          _l("Failed logins from one address within the window before it must wait."),
          minimum=3, maximum=1000, sensitive=True),
    Param("security.identity_max_failures", "count", 10, _l("Failed logins per account"),
          _l("Failed logins of one account from all addresses within the window after which "
             "the web login demands the captcha and app logins from new addresses slow down."),
          minimum=3, maximum=1000, sensitive=True),
    Param("security.login_slow_seconds", "seconds", 10, _l("App login slow-down"),
          _l("Seconds between app login tries from a new address while the account is under "
             "attack (0: no slow-down)."), minimum=0, maximum=600, sensitive=True),
    Param("security.token_hours", "hours", 12, _l("App token lifetime"),
          _l("How long an app's API token is valid; the app then logs in again."),
          minimum=1, maximum=720, sensitive=True),
    Param("security.service_code_max_failures", "count", 10, _l("Wrong service codes per shop"),
          _l("Wrong service codes from one shop within the window before every try waits."),
          minimum=3, maximum=1000, sensitive=True),
    Param("security.service_code_window_minutes", "minutes", 10,
          _l("Service-code window"), _l("The period in which wrong service codes are counted."),
          minimum=1, maximum=1440, sensitive=True),
)}
VIP_PLAN_KEYS = {1: "membership.vip_price_1", 3: "membership.vip_price_3",
                 12: "membership.vip_price_12"}


def vip_plans():
    """Months -> price in fen of the VIP plans on sale now."""
    return {months: param(key) for months, key in VIP_PLAN_KEYS.items()}


# ---- the one reader -------------------------------------------------------------------------
def _load():
    """{key: [(city_id, order_type, effective_from, value, id)]} of every live value."""
    rows = {}
    for value in ParamValue.select().where(ParamValue.withdrawn_at.is_null()).order_by(
            ParamValue.effective_from, ParamValue.id):
        rows.setdefault(value.key, []).append(
            (value.city_id, value.order_type or None, value.effective_from, value.value,
             value.id))
    return rows


_checked = [0.0]  # when a job or the CLI last compared the version counter


def _rows():
    """The live values, cached per process with the grants and menus (rbac.cached): a request
    has already compared the version counter; a job or the CLI compares it once a second."""
    if not has_request_context() and time.monotonic() - _checked[0] > 1.0:
        rbac.refresh_if_stale()
        _checked[0] = time.monotonic()
    return rbac.cached("params", _load)


def declared(key):
    spec = REGISTRY.get(key)
    if spec is None:
        raise NotFound(_l("No parameter %(key)s.", key=key))
    return spec


def in_force(key, city=None, order_type=None, at=None):
    """(value, the row id or None for the default) of `key` for a city / order type."""
    spec = declared(key)
    at = at or utcnow()
    city_id = getattr(city, "id", city)
    rows = [r for r in _rows().get(key, ()) if r[2] <= at]
    for with_city, with_type in LEVELS[spec.scope]:
        want_city = city_id if with_city else None
        want_type = order_type if with_type else None
        if (with_city and city_id is None) or (with_type and order_type is None):
            continue
        matching = [r for r in rows if r[0] == want_city and r[1] == want_type]
        if matching:
            return matching[-1][3], matching[-1][4]
    return spec.default, None


def param(key, city=None, order_type=None, at=None):
    """The value of `key` in force now (or `at`) for `city` (an Organization or id) and
    `order_type`: the most specific scope that has one, else the declared default."""
    return in_force(key, city, order_type, at)[0]


# ---- changes ---------------------------------------------------------------------------------
def _scope_of(spec, city, order_type):
    city_id = getattr(city, "id", city) or None
    order_type = order_type or None
    allowed = LEVELS[spec.scope]
    if (city_id is not None, order_type is not None) not in allowed:
        raise InputError("scope", _l("Scope: %(key)s cannot be set per city or order type "
                                     "this way.", key=spec.key))
    if city_id is not None and not Organization.select().where(
            Organization.id == city_id, Organization.kind == "city").exists():
        raise InputError("city", _l("City: choose a city."))
    if order_type is not None and order_type not in ORDER_TYPES:
        raise InputError("order_type", _l("Order type: choose one from the list."))
    return city_id, order_type


def set_value(key, value, actor, *, city=None, order_type=None, effective_from=None,
              note="", now=None):
    """Record a new value of `key` for a scope, in force from `effective_from` (now when
    None; never in the past). Audited with the value it replaces."""
    spec = declared(key)
    value = spec.check(value)
    now = now or utcnow()
    city_id, order_type = _scope_of(spec, city, order_type)
    if effective_from is None or effective_from < now:
        if effective_from is not None and effective_from < now - dt.timedelta(minutes=1):
            raise InputError("effective_from", _l(
                "Effective from: a new value cannot take effect in the past."))
        effective_from = now
    before = in_force(key, city_id, order_type, effective_from)[0]
    with db.atomic():
        row = ParamValue.create(key=key, city=city_id, order_type=order_type or "",
                                value=value, effective_from=effective_from, note=note.strip(),
                                created_by=actor.id if actor else None, created_at=now)
        audit.record("set_param", row, {"value": before}, {
            "value": value, "key": key, "city": city_id, "order_type": order_type,
            "effective_from": effective_from.isoformat()}, note=note, actor=actor,
            object_type="Param", object_id=key)
        rbac.bump("params")
    rbac.forget()  # this process sees its own change at once; others on their next request
    return row


def withdraw(row, actor, now=None):
    """Withdraw a value that has not taken effect yet."""
    now = now or utcnow()
    with db.atomic():
        taken = ParamValue.update(withdrawn_at=now, withdrawn_by=actor.id if actor else None
                                  ).where(ParamValue.id == row.id,
                                          ParamValue.withdrawn_at.is_null(),
                                          ParamValue.effective_from > now).execute()
        if not taken:
            raise ConflictError(_l("This value has already taken effect or was withdrawn; "
                                   "it can no longer be withdrawn."))
        audit.record("withdraw_param", row, {"value": row.value}, None, actor=actor,
                     object_type="Param", object_id=row.key,
                     note=f"effective {row.effective_from.isoformat()}")
        rbac.bump("params")
    rbac.forget()
    return row


def history(key):
    return list(ParamValue.select().where(ParamValue.key == key).order_by(
        ParamValue.effective_from.desc(), ParamValue.id.desc()))
