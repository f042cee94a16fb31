"""Domain-free helpers every package shares (no domain, no request): money (fen <-> yuan),
clock (the platform time zone), tx (the write transaction), validators (VIN, plate, mobile),
moves (small state tables), xlsx (Excel import machinery), exports (package APIs)."""
from console.common.exports import lazy_exports

__all__, __getattr__ = lazy_exports(__name__, {
    "money": ["format_yuan", "parse_yuan"],
    "clock": ["local_time", "local_to_utc", "platform_zone", "to_local"],
    "tx": ["writing"],
    "validators": ["InvalidValue", "validate_mobile", "validate_plate", "validate_vin"],
    "moves": ["StateTable"],
})
