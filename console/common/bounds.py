"""What any input may be, whatever its field (DESIGN §5: no input answers 500): an id is a
whole number a 64-bit database integer holds, text is what a database can store (no lone
surrogate, no NUL), a JSON document is nested a few levels, not a thousand. Pure functions:
the request guard (console/__init__.py), the API schema and the console views apply them."""
import math
import re

from werkzeug.routing import IntegerConverter

MAX_ID = 2**63 - 1  # the largest BIGINT (PostgreSQL) / INTEGER (SQLite)
MAX_ID_DIGITS = 18  # a digit string this long is always below MAX_ID
MAX_JSON_DEPTH = 32  # the API's deepest body is 3 levels (body.lines.0.qty)
_ID_TEXT = re.compile(r"\s*([0-9]{1,19})\s*")


def parse_id(raw):
    """The row id `raw` (an int or digit text) names, or None when it cannot name a row:
    not a whole number, below 1, or beyond MAX_ID (the database would overflow)."""
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        value = raw
    else:
        found = _ID_TEXT.fullmatch(raw) if isinstance(raw, str) else None
        if found is None:
            return None
        value = int(found.group(1))
    return value if 1 <= value <= MAX_ID else None


def within(number, low, high):
    """A page, offset or limit from a query string, held between `low` and `high`: past 2^63
    (or negative, for PostgreSQL's OFFSET) the database refuses it."""
    return min(max(number or 0, low), high)


class IdConverter(IntegerConverter):
    """`<int:...>` in every route: a number beyond MAX_ID matches no route (404), rather than
    reaching the database as an integer it cannot hold."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


def storable_text(text):
    """False for text no database stores: a lone surrogate (from a JSON \\ud800 escape)
    cannot be encoded as UTF-8, and PostgreSQL refuses NUL characters."""
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def json_problem(document):
    """The first problem of a parsed JSON document as (path, kind), or None. kind is
    "too_deep" (nested deeper than MAX_JSON_DEPTH), "text" (a key or string that cannot be
    stored) or "number" (NaN or an infinity). `path` is dotted as the API names fields
    (`lines.0.name`). Iterative: a deep document must not exhaust the stack here either."""
    stack = [(document, "", 0)]
    while stack:
        value, path, depth = stack.pop()
        if isinstance(value, str):
            if not storable_text(value):
                return path, "text"
        elif isinstance(value, float):
            if not math.isfinite(value):
                return path, "number"
        elif isinstance(value, (dict, list)):
            if depth >= MAX_JSON_DEPTH:
                return path, "too_deep"
            pairs = value.items() if isinstance(value, dict) else enumerate(value)
            children = []
            for key, item in pairs:
                name = _printable(key)
                inner = f"{path}.{name}" if path else name
                if isinstance(key, str) and not storable_text(key):
                    return inner, "text"
                children.append((item, inner, depth + 1))
            stack.extend(reversed(children))
    return None


def _printable(key, limit=60):
    """A key as it may appear in an error message: escaped, and short."""
    text = str(key).encode("utf-8", "backslashreplace").decode("utf-8")
    text = text.replace("\x00", "\\x00")
    return text if len(text) <= limit else text[:limit] + "…"
