"""The one transition table of every order type (DESIGN §7), with the roles allowed to make each
move. `console.orders.transition()` is the only code that applies it.

TRANSITIONS[(family, from_state, action)] = (to_state, frozenset of actor roles)

Families group the order types that share a lifecycle: maintenance and detailing follow the
repair flowchart; every other type has its own short lifecycle."""
from enum import StrEnum

from flask_babel import lazy_gettext as _l

CUSTOMER, BUTLER, SUPPLIER = "customer", "butler", "supplier"
DISPATCHER, SERVICE, SYSTEM = "dispatcher", "customer_service", "system"

FAMILY_OF = {"maintenance": "repair", "detailing": "repair", "insurance": "insurance",
             "parts": "parts", "rental": "rental", "used_car": "used_car", "towing": "towing",
             "designated_driving": "designated_driving", "vip": "vip"}


class RepairState(StrEnum):
    PLACED = "placed"
    AWAITING_GRAB = "awaiting_grab"
    ASSIGNED = "assigned"
    PICKED_UP = "picked_up"
    AT_SHOP = "at_shop"
    QUOTED = "quoted"
    IN_REPAIR = "in_repair"
    REPAIRED = "repaired"
    PAID = "paid"
    RETURNED = "returned"
    REVIEWED = "reviewed"
    CLOSED = "closed"
    REFUSED = "refused"
    CANCELLED = "cancelled"
    REFUNDED = "refunded"


class InsuranceState(StrEnum):
    PLACED = "placed"
    QUOTED = "quoted"
    PAID = "paid"
    POLICY_ISSUED = "policy_issued"
    CANCELLED = "cancelled"
    REFUNDED = "refunded"


class PartsState(StrEnum):
    PLACED = "placed"
    PAID = "paid"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"
    REFUNDED = "refunded"


class RentalState(StrEnum):
    RESERVED = "reserved"
    DEPOSIT_PAID = "deposit_paid"
    PICKED_UP = "picked_up"
    RETURNED = "returned"
    SETTLED = "settled"
    CANCELLED = "cancelled"
    REFUNDED = "refunded"


class UsedCarState(StrEnum):
    LISTED = "listed"
    VALUED = "valued"
    MATCHED = "matched"
    CLOSED = "closed"
    CANCELLED = "cancelled"


class TowingState(StrEnum):
    REQUESTED = "requested"
    ASSIGNED = "assigned"
    EN_ROUTE = "en_route"
    TOWED = "towed"
    PAID = "paid"
    CANCELLED = "cancelled"
    REFUNDED = "refunded"


class DrivingState(StrEnum):
    REQUESTED = "requested"
    ASSIGNED = "assigned"
    STARTED = "started"
    ENDED = "ended"
    PAID = "paid"
    CANCELLED = "cancelled"
    REFUNDED = "refunded"


class VipState(StrEnum):
    PENDING_PAYMENT = "pending_payment"
    PAID = "paid"
    ACTIVE = "active"
    EXPIRED = "expired"
    CANCELLED = "cancelled"
    REFUNDED = "refunded"


STATES = {"repair": RepairState, "insurance": InsuranceState, "parts": PartsState,
          "rental": RentalState, "used_car": UsedCarState, "towing": TowingState,
          "designated_driving": DrivingState, "vip": VipState}
INITIAL = {"repair": RepairState.PLACED, "insurance": InsuranceState.PLACED,
           "parts": PartsState.PLACED, "rental": RentalState.RESERVED,
           "used_car": UsedCarState.LISTED, "towing": TowingState.REQUESTED,
           "designated_driving": DrivingState.REQUESTED, "vip": VipState.PENDING_PAYMENT}
# Reaching one of these closes the order: its service code is released, closed_at is set.
FINAL = {
    "repair": {"closed", "cancelled", "refunded"},
    "insurance": {"policy_issued", "cancelled", "refunded"},
    "parts": {"delivered", "cancelled", "refunded"},
    "rental": {"settled", "cancelled", "refunded"},
    "used_car": {"closed", "cancelled"},
    "towing": {"paid", "cancelled", "refunded"},
    "designated_driving": {"paid", "cancelled", "refunded"},
    "vip": {"active", "expired", "cancelled", "refunded"},
}
# States in which a task waits in the task hall for a butler to grab it.
HALL_STATES = {"awaiting_grab", "requested"}

R, IN, P, RT = RepairState, InsuranceState, PartsState, RentalState
U, T, DD, V = UsedCarState, TowingState, DrivingState, VipState
C, B, S, D, CS, SYS = CUSTOMER, BUTLER, SUPPLIER, DISPATCHER, SERVICE, SYSTEM


def _butler_task(hall, assigned):
    """The grab / assign / refuse moves every butler task shares; `time_out` is the sweep
    putting a task nobody grabbed in time on the dispatch board (it stays grabbable)."""
    return [(hall, "grab", assigned, {B}), (hall, "assign", assigned, {D, SYS}),
            (hall, "time_out", hall, {SYS}),
            (assigned, "assign", assigned, {D}), (assigned, "refuse", hall, {B})]


def _each(states, action, to, roles):
    return [(state, action, to if to is not None else state, roles) for state in states]


# (from, action, to, roles) per family; `to` None in _each means "stays where it is"
MOVES = {
    "repair": [
        (R.PLACED, "publish", R.AWAITING_GRAB, {SYS}),  # needs a butler: into the task hall
        (R.PLACED, "arrive", R.AT_SHOP, {S}),  # self-drive: the shop checks the service code
        *_butler_task(R.AWAITING_GRAB, R.ASSIGNED),
        (R.ASSIGNED, "pick_up", R.PICKED_UP, {B}),
        (R.PICKED_UP, "arrive", R.AT_SHOP, {B, S}),
        (R.AT_SHOP, "quote", R.QUOTED, {S}),
        (R.QUOTED, "confirm_quote", R.IN_REPAIR, {C}),
        (R.QUOTED, "reject_quote", R.REFUSED, {C}),
        (R.REFUSED, "return_car", R.CLOSED, {B, S}),
        (R.IN_REPAIR, "post_progress", R.IN_REPAIR, {S}),
        (R.IN_REPAIR, "confirm_cost_change", R.IN_REPAIR, {C}),
        (R.IN_REPAIR, "reject_cost_change", R.IN_REPAIR, {C}),
        (R.IN_REPAIR, "finish_repair", R.REPAIRED, {S}),
        (R.REPAIRED, "pay", R.PAID, {SYS}),
        (R.REPAIRED, "settle_rework", R.PAID, {SYS}),  # rework done, nothing more to pay
        (R.PAID, "return_car", R.RETURNED, {B, S}),
        (R.RETURNED, "review", R.REVIEWED, {C}),
        *_each((R.RETURNED, R.REVIEWED), "request_rework", R.IN_REPAIR, {C, CS}),
        *_each((R.RETURNED, R.REVIEWED), "close", R.CLOSED, {CS, SYS}),
        *_each((R.PLACED, R.AWAITING_GRAB, R.ASSIGNED), "cancel", R.CANCELLED, {C, CS}),
        *_each((R.PICKED_UP, R.AT_SHOP, R.QUOTED), "cancel", R.CANCELLED, {CS}),
        *_each((R.PAID, R.RETURNED, R.REVIEWED, R.CLOSED), "complain", None, {C}),
        *_each((R.PAID, R.RETURNED, R.REVIEWED, R.CLOSED), "refund", R.REFUNDED, {CS, SYS}),
    ],
    "insurance": [
        (IN.PLACED, "quote", IN.QUOTED, {S}),
        (IN.QUOTED, "pay", IN.PAID, {SYS}),
        (IN.PAID, "issue_policy", IN.POLICY_ISSUED, {S}),
        *_each((IN.PLACED, IN.QUOTED), "cancel", IN.CANCELLED, {C, CS}),
        *_each((IN.PAID, IN.POLICY_ISSUED), "complain", None, {C}),
        (IN.PAID, "refund", IN.REFUNDED, {CS, SYS}),
    ],
    "parts": [
        (P.PLACED, "pay", P.PAID, {SYS}),
        (P.PAID, "ship", P.SHIPPED, {S}),
        (P.SHIPPED, "deliver", P.DELIVERED, {C, S, SYS}),
        (P.PLACED, "cancel", P.CANCELLED, {C, CS, SYS}),
        *_each((P.PAID, P.SHIPPED, P.DELIVERED), "complain", None, {C}),
        (P.PAID, "refund", P.REFUNDED, {CS, SYS}),
        *_each((P.SHIPPED, P.DELIVERED), "refund", P.REFUNDED, {CS}),
    ],
    "rental": [
        (RT.RESERVED, "pay", RT.DEPOSIT_PAID, {SYS}),
        (RT.DEPOSIT_PAID, "pick_up", RT.PICKED_UP, {S}),
        (RT.PICKED_UP, "return_car", RT.RETURNED, {S}),
        (RT.RETURNED, "settle", RT.SETTLED, {S, SYS}),
        (RT.RESERVED, "cancel", RT.CANCELLED, {C, CS, SYS}),
        (RT.DEPOSIT_PAID, "refund", RT.REFUNDED, {CS, SYS}),
        *_each((RT.DEPOSIT_PAID, RT.PICKED_UP, RT.RETURNED, RT.SETTLED), "complain", None, {C}),
    ],
    "used_car": [
        (U.LISTED, "value", U.VALUED, {S}),
        (U.VALUED, "match", U.MATCHED, {S, CS}),
        (U.MATCHED, "close", U.CLOSED, {S, CS}),
        *_each((U.LISTED, U.VALUED, U.MATCHED), "cancel", U.CANCELLED, {C, CS}),
        *_each((U.MATCHED, U.CLOSED), "complain", None, {C}),
    ],
    "towing": [
        *_butler_task(T.REQUESTED, T.ASSIGNED),
        (T.ASSIGNED, "depart", T.EN_ROUTE, {B}),
        (T.EN_ROUTE, "finish_tow", T.TOWED, {B}),
        (T.TOWED, "pay", T.PAID, {SYS}),
        *_each((T.REQUESTED, T.ASSIGNED), "cancel", T.CANCELLED, {C, CS}),
        (T.EN_ROUTE, "cancel", T.CANCELLED, {CS}),
        (T.PAID, "complain", T.PAID, {C}),
        (T.PAID, "refund", T.REFUNDED, {CS, SYS}),
    ],
    "designated_driving": [
        *_butler_task(DD.REQUESTED, DD.ASSIGNED),
        (DD.ASSIGNED, "start_trip", DD.STARTED, {B}),
        (DD.STARTED, "end_trip", DD.ENDED, {B}),
        (DD.ENDED, "pay", DD.PAID, {SYS}),
        *_each((DD.REQUESTED, DD.ASSIGNED), "cancel", DD.CANCELLED, {C, CS}),
        (DD.PAID, "complain", DD.PAID, {C}),
        (DD.PAID, "refund", DD.REFUNDED, {CS, SYS}),
    ],
    "vip": [
        (V.PENDING_PAYMENT, "pay", V.PAID, {SYS}),
        (V.PAID, "activate", V.ACTIVE, {SYS}),
        (V.ACTIVE, "expire", V.EXPIRED, {SYS}),
        (V.PENDING_PAYMENT, "cancel", V.CANCELLED, {C, CS, SYS}),
        *_each((V.PAID, V.ACTIVE), "refund", V.REFUNDED, {CS}),
    ],
}

TRANSITIONS = {(family, str(src), action): (str(dst), frozenset(roles))
               for family, moves in MOVES.items() for src, action, dst, roles in moves}
ACTIONS = sorted({action for _family, _state, action in TRANSITIONS})

STATE_LABELS = {
    "placed": _l("Placed"), "awaiting_grab": _l("Awaiting grab"), "assigned": _l("Assigned"),
    "picked_up": _l("Picked up"), "at_shop": _l("At the shop"), "quoted": _l("Quoted"),
    "in_repair": _l("In repair"), "repaired": _l("Repaired"), "paid": _l("Paid"),
    "returned": _l("Returned"), "reviewed": _l("Reviewed"), "closed": _l("Closed"),
    "refused": _l("Quote refused"), "cancelled": _l("Cancelled"), "refunded": _l("Refunded"),
    "policy_issued": _l("Policy issued"), "shipped": _l("Shipped"),
    "delivered": _l("Delivered"), "reserved": _l("Reserved"),
    "deposit_paid": _l("Deposit paid"), "settled": _l("Settled"), "listed": _l("Listed"),
    "valued": _l("Valued"), "matched": _l("Buyer matched"), "requested": _l("Requested"),
    "en_route": _l("En route"), "towed": _l("Towed"), "started": _l("Trip started"),
    "ended": _l("Trip ended"), "pending_payment": _l("Pending payment"),
    "active": _l("Membership in force"), "expired": _l("Expired"),
}
ACTION_LABELS = {
    "place": _l("Place the order"), "publish": _l("Publish to the task hall"),
    "arrive": _l("Car arrived at the shop"), "grab": _l("Grab"), "assign": _l("Assign a butler"),
    "refuse": _l("Refuse the task"), "pick_up": _l("Pick up"), "quote": _l("Quote"),
    "confirm_quote": _l("Confirm the quote"), "reject_quote": _l("Reject the quote"),
    "return_car": _l("Return the car"), "post_progress": _l("Post a progress report"),
    "confirm_cost_change": _l("Confirm the cost change"),
    "reject_cost_change": _l("Reject the cost change"), "finish_repair": _l("Finish the repair"),
    "pay": _l("Pay"), "settle_rework": _l("Settle the rework"), "review": _l("Review"),
    "request_rework": _l("Request rework"), "close": _l("Close"), "cancel": _l("Cancel"),
    "complain": _l("Complain"), "refund": _l("Refund"), "issue_policy": _l("Issue the policy"),
    "ship": _l("Ship"), "deliver": _l("Confirm delivery"), "settle": _l("Settle"),
    "value": _l("Value the car"), "match": _l("Match a buyer"), "depart": _l("Set off"),
    "finish_tow": _l("Finish towing"), "start_trip": _l("Start the trip"),
    "end_trip": _l("End the trip"), "activate": _l("Activate"), "expire": _l("Expire"),
    "time_out": _l("Not grabbed in time: on the dispatch board"),
}
# The families in the order the status filter lists them; each family's states in the order
# of its lifecycle (the enums above), the side branches last.
FAMILY_LABELS = {"repair": _l("Maintenance and detailing"), "insurance": _l("Insurance"),
                 "parts": _l("Parts"), "rental": _l("Rental"), "used_car": _l("Used car"),
                 "towing": _l("Towing"), "designated_driving": _l("Designated driving"),
                 "vip": _l("VIP membership")}
assert list(FAMILY_LABELS) == list(STATES)
ROLE_LABELS = {CUSTOMER: _l("Customer"), BUTLER: _l("Butler"), SUPPLIER: _l("Supplier"),
               DISPATCHER: _l("Dispatcher"), SERVICE: _l("Customer service"),
               SYSTEM: _l("System (automatic)")}


def family(order_type):
    return FAMILY_OF[order_type]


def states_of(order_type):
    """The states of `order_type`, in the order of its lifecycle."""
    return [str(s) for s in STATES[FAMILY_OF[order_type]]]


def types_of(family):
    return [order_type for order_type, of in FAMILY_OF.items() if of == family]


def is_final(order_type, state):
    return state in FINAL[FAMILY_OF[order_type]]
