"""People (plan 3.1, 3.6, 3.7): customers with VIP and loyalty points, their vehicles, butlers
with licence points and refusals, suppliers with certification, car models, reviews and the
stars derived from them, guarded uploads. Views, the API, jobs and the demo call these."""
from console.common.exports import lazy_exports

__all__, __getattr__ = lazy_exports(__name__, {
    "checks": ["CUSTOMERS_ORG", "SUPPLIERS_ORG", "city_of", "pinyin_key", "reason_text",
               "require_city", "whole_number"],
    "customers": ["add_loyalty_points", "check_customer", "open_customer_account",
                  "register_customer", "set_vip"],
    "vehicles": ["add_vehicle", "check_vehicle", "remove_vehicle"],
    "butlers": ["can_take_work", "check_butler", "deduct_licence_points", "eligible_butlers",
                "open_butler_account", "register_butler", "restore_licence_points",
                "set_butler_status", "set_refusal_count"],
    "car_models": ["check_car_model", "load_car_models"],
    "suppliers": ["JOBS", "CERTIFICATION_ACTIONS",
                  "CERTIFICATION_STATUS_NAMES", "CERTIFICATION_TRANSITIONS",
                  "add_supplier_document", "certify", "check_supplier", "create_supplier",
                  "expire_certifications", "remind_expiring_certifications"],
    "reviews": ["REVIEW_TARGET_NAMES", "STARS_FOR_RATING", "add_review", "recompute_stars",
                "review_totals", "star_rating"],
})
