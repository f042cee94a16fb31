"""Catalogue (plan 3.5 master data): suppliers' service items with platform review, versioned
pricing rules (estimate, butler fee, designated-driving fee, delivery fee, loyalty points,
refusal bonus) with their calculators, the Excel import kinds and the demo catalogue."""
from console.common.exports import lazy_exports

__all__, __getattr__ = lazy_exports(__name__, {
    "items": ["CatalogueError", "approve", "create_item", "create_rule_set", "is_orderable",
              "orderable_items", "reject", "revise_item", "submit", "transition"],
    "pricing": ["PricingError", "butler_fee", "delivery_fee", "designated_driving_fee",
                "estimate", "loyalty_points", "refusal_bonus", "rule_in_force"],
    "import_kinds": ["KINDS"],
})
