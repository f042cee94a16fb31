"""Checks every people form shares: a reason for the history, whole numbers, pinyin
search keys, and the city an organization belongs to."""

from flask_babel import gettext as _
from pypinyin import Style, lazy_pinyin

from console.common.validators import InvalidValue
from console.models import (
    Organization,
)

CUSTOMERS_ORG = "CUSTOMERS"
SUPPLIERS_ORG = "SUPPLIERS"


def reason_text(reason, field="reason"):
    reason = (reason or "").strip()
    if not reason:
        raise InvalidValue(field, _("Reason: required, so the history explains the change"))
    return reason[:255]


def whole_number(value, field, label, minimum=0, maximum=None):
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        raise InvalidValue(field, _("%(field)s: must be a whole number", field=label)) from None
    if number < minimum or (maximum is not None and number > maximum):
        raise InvalidValue(field, _("%(field)s: must be between %(low)d and %(high)d",
                                    field=label, low=minimum,
                                    high=maximum if maximum is not None else 10 ** 9))
    return number


def pinyin_key(text):
    """Full pinyin and initials, e.g. 张伟 -> "zhangwei zw", so staff can search either."""
    full = "".join(lazy_pinyin(text or "")).replace(" ", "").lower()
    initials = "".join(lazy_pinyin(text or "", style=Style.FIRST_LETTER)).replace(" ", "")
    return f"{full} {initials.lower()}"[:200]


def city_of(org):
    """The nearest city node at or above `org` (a butler team sits under its city)."""
    ids = org.ancestors_and_self_ids()
    cities = {o.id: o for o in Organization.select().where(Organization.id.in_(ids),
                                                           Organization.kind == "city")}
    return next((cities[i] for i in reversed(ids) if i in cities), None)


def require_city(org, field="organization"):
    if org is None or org.kind != "city":
        raise InvalidValue(field, _("City: choose a city organization"))
    return org
