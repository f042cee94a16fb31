"""Money in one place (DESIGN §5): integer fen inside, ¥1,234.56 on screen, and yuan as people
type it ("128.5", "¥1,280.50", 128.5 from an Excel cell) parsed to fen without ever going
through a float's rounding."""
from decimal import Decimal, InvalidOperation

from flask_babel import lazy_gettext as _l

from console.errors import InputError

FEN = Decimal("0.01")
MAX_FEN = 1_000_000_000  # ¥10,000,000: above any order, low enough to catch a typo
EXCEL_FLOAT_SLACK = Decimal("0.000001")


def format_yuan(fen, *, symbol=True, grouping=True):
    """Integer fen as ¥1,234.56 (or "1234.56" for a form field); None as ""."""
    if fen is None:
        return ""
    sign = "-" if fen < 0 else ""
    number = f"{Decimal(abs(fen)) / 100:{',' if grouping else ''}.2f}"
    return f"{sign}{'¥' if symbol else ''}{number}"


def parse_yuan(value, field=None, label=None, *, maximum_fen=MAX_FEN, allow_zero=True):
    """Yuan to integer fen; refuses more than two decimals, negatives, zero when not allowed
    and amounts past `maximum_fen`. Raises InputError(field, "label: reason")."""
    def refuse(reason):
        message = reason if label is None else _l("%(field)s: %(reason)s", field=label,
                                                  reason=reason)
        return InputError(field, message)

    amount = _decimal(value)
    if amount is None or not amount.is_finite():
        raise refuse(_l("must be an amount in yuan, e.g. 128.50"))
    if amount != amount.quantize(FEN):
        raise refuse(_l("at most 2 decimal places (fen), not %(value)s", value=value))
    if amount < 0:
        raise refuse(_l("must not be negative"))
    if amount == 0 and not allow_zero:
        raise refuse(_l("must be more than zero"))
    fen = int(amount * 100)
    if fen > maximum_fen:
        raise refuse(_l("must be at most %(maximum)s", maximum=format_yuan(maximum_fen)))
    return fen


def _decimal(value):
    if isinstance(value, bool):
        return None
    if isinstance(value, float):
        # binary floats from Excel: a two-decimal amount to within 1e-6 is that amount
        amount = Decimal(repr(value))
        cents = amount.quantize(FEN)
        return cents if abs(amount - cents) <= EXCEL_FLOAT_SLACK else amount
    if isinstance(value, int):
        return Decimal(value)
    text = str(value or "").strip().replace("¥", "").replace("￥", "").replace(",", "")
    try:
        return Decimal(text)
    except InvalidOperation:
        return None
