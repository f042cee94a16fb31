"""Orders (plan 3.5 and the maintenance flowchart): the order types, the one transition table
(`states`), the one `transition()` (`engine`), the operations of every party (`operations`),
after-sales (progress, rework, complaints, follow-ups), appointments, the keyset list queries
(`lists`) and the demo generator (`demo/`)."""
from console.common.exports import lazy_exports

__all__, __getattr__ = lazy_exports(__name__, {
    "types": ["ORDER_TYPES", "ORDER_TYPE_LABELS", "ORDER_TYPE_NAMES", "SERVICE_TYPES"],
    "states": ["ACTIONS", "ACTION_LABELS", "FAMILY_OF", "FINAL", "HALL_STATES", "INITIAL",
               "ROLE_LABELS", "STATES", "STATE_LABELS", "TRANSITIONS", "is_final", "states_of"],
    "engine": ["OrderError", "OrderInputError", "OrderStateError",
               "available_actions", "butler_of", "initial_state", "next_order_no",
               "order_roles", "timeline", "transition"],
    "operations": ["JOBS", "STARS_TO_RATING", "SUPPLIED_FAMILIES", "advance",
                   "assign", "can_act", "cancel", "confirm_quote", "estimate_lines",
                   "expire_memberships", "finish_repair", "grab", "grab_deadline", "hall_task",
                   "hall_tasks", "mark_paid", "place_order", "plain_moves", "quote",
                   "quote_difference", "refund", "refund_preview", "refuse",
                   "reject_quote", "review", "verify_service_code"],
    "aftersales": ["complain", "confirm_cost_change", "follow_up", "handle_complaint",
                   "post_progress", "reject_cost_change", "request_rework",
                   "vehicle_service_history"],
    "appointments": ["book", "book_for_order", "free_slots", "open_slots", "release"],
})
