"""Time in one place (DESIGN §5): stored as naive UTC, shown and typed in the platform time
zone (`CONSOLE_TIMEZONE`, default Asia/Shanghai)."""
import datetime as dt
from functools import lru_cache
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context
from flask_babel import lazy_gettext as _l

from console.errors import InputError

DEFAULT_ZONE = "Asia/Shanghai"
INPUT_FORMAT = "%Y-%m-%dT%H:%M"  # an <input type="datetime-local">


@lru_cache(maxsize=8)
def _zone(name):
    return ZoneInfo(name)


def platform_zone():
    return _zone(current_app.config["CONSOLE_TIMEZONE"] if has_app_context() else DEFAULT_ZONE)


def to_local(moment):
    """A stored (naive UTC) time as an aware time in the platform zone."""
    return moment.replace(tzinfo=dt.timezone.utc).astimezone(platform_zone())


def local_to_utc(moment):
    """A naive platform-zone time as naive UTC, as stored."""
    return moment.replace(tzinfo=platform_zone()).astimezone(dt.timezone.utc).replace(
        tzinfo=None)


def local_time(value, with_seconds=False):
    """A stored time in the platform zone, numeric so it reads the same in every language
    (Babel's format_datetime costs more than a whole list query)."""
    if not value:
        return ""
    return to_local(value).strftime("%Y-%m-%d %H:%M:%S" if with_seconds else "%Y-%m-%d %H:%M")


def local_day(moment):
    """The platform-zone calendar day of a stored time, as 20261130."""
    return to_local(moment).strftime("%Y%m%d")


def local_midnight_utc(day):
    """The start of a platform-zone calendar day, as naive UTC."""
    return local_to_utc(dt.datetime(day.year, day.month, day.day))


def as_local_input(moment):
    """A stored time for an <input type="datetime-local">."""
    return to_local(moment).strftime(INPUT_FORMAT)


def parse_local_input(text, field, label):
    """A datetime-local input in the platform zone, as naive UTC."""
    try:
        return local_to_utc(dt.datetime.strptime((text or "").strip(), INPUT_FORMAT))
    except ValueError:
        raise InputError(field, _l("%(label)s: enter a date and time.", label=label)) from None


def parse_local_date_end(text, field, label):
    """'2026-12-31' typed in the platform zone: the last second of that day, in UTC."""
    try:
        day = dt.date.fromisoformat((text or "").strip())
    except ValueError:
        raise InputError(field, _l("%(field)s: a date like 2026-12-31", field=label)) from None
    return local_to_utc(dt.datetime.combine(day, dt.time(23, 59, 59)))
