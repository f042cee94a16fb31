"""The supplier app: verify a customer's service code, quote after inspection, report
progress (with cost changes the customer must confirm), finish the repair, and the shop's
moves of the other order types (ship, issue the policy, rental hand-over, valuation, ...)."""
from console import orders
from console.api import errors, route
from console.api import schema as s
from console.api.orders import ORDER_DETAIL, get_visible_order, order_detail, profiles
from console.api.schema import N_
from console.models import LINE_KINDS, Order
from console.orders import aftersales
from console.orders.states import SUPPLIER

SUPPLIER_ADVANCES = orders.plain_moves(SUPPLIER)

LINE_INPUT = s.obj({
    "kind": s.string(enum=LINE_KINDS), "name": s.string(120, min_length=1),
    "qty": s.integer(minimum=1, maximum=10000),
    "unit_fen": s.price("per unit; a discount line subtracts it")},
    required=("kind", "name", "qty", "unit_fen"))
QUOTE = s.obj({"lines": s.array(LINE_INPUT, max_items=100), "note": s.string(2000)},
              required=("lines",))
PROGRESS = s.obj({
    "text": s.string(2000, min_length=1),
    "photos": s.array(s.integer(minimum=1), max_items=20, unique=True,
                      description="ids of image files the caller uploaded"),
    "cost_change_fen": s.integer(minimum=-10**9, maximum=10**9, description=(
        "fen, may be negative; non-zero waits for the customer's confirmation")),
    "lines": s.array(LINE_INPUT, max_items=100,
                     description="what the cost change is made of; must add up to it"),
}, required=("text",))
ADVANCE = s.obj({
    "action": s.string(enum=SUPPLIER_ADVANCES), "note": s.string(500),
    "final_fen": s.price("value / settle: the price"),
    "policy_no": s.string(60, description="issue_policy"),
    "tracking_no": s.string(60, description="ship"),
}, required=("action",))


def shop_order(user, order_id):
    if profiles(user)[2] is None:
        raise errors.forbidden()
    return get_visible_order(user, order_id)


def _shop_move(rule, resource, summary, body=None, status=200):
    return route(f"/supplier/orders/<int:order_id>/{rule}", "POST", resource=resource,
                 tag="supplier", body=body, responses={status: ORDER_DETAIL}, errors=(409,),
                 summary=summary)


@route("/supplier/service-codes/verify", "POST", resource="api.supplier.verify_code",
       tag="supplier", body=s.obj({"code": s.string(8, min_length=1)}, required=("code",)),
       responses={200: ORDER_DETAIL, 429: errors.ERROR}, errors=(409,),
       summary=N_("Verify a customer's service code (the car is at the shop)"),
       description="Wrong codes are throttled per shop: past the limit every try answers 429 "
                   "(`too_many_requests`, the message says how long to wait) until the oldest "
                   "wrong code leaves the window.")
def verify_code(user, body):
    if profiles(user)[2] is None:
        raise errors.forbidden()
    order = orders.verify_service_code(user, body["code"])
    return order_detail(Order.get_by_id(order.id), user)


@_shop_move("quote", "api.supplier.quote", N_("Quote the final price, line by line"), QUOTE)
def quote_order(user, order_id, body):
    order = shop_order(user, order_id)
    orders.quote(order, user, body["lines"], body.get("note", ""))
    return order_detail(order, user)


@_shop_move("progress", "api.supplier.progress", N_("Post a progress report"), PROGRESS,
            status=201)
def post_progress(user, order_id, body):
    order = shop_order(user, order_id)
    aftersales.post_progress(order, user, body["text"], body.get("photos", ()),
                             body.get("cost_change_fen", 0), body.get("lines", ()))
    return order_detail(Order.get_by_id(order.id), user), 201


@_shop_move("finish-repair", "api.supplier.repair", N_("Finish the repair"),
            s.obj({"note": s.string(2000)}))
def finish_repair(user, order_id, body):
    order = shop_order(user, order_id)
    orders.finish_repair(order, user, body.get("note", ""))
    return order_detail(order, user)


@_shop_move("advance", "api.supplier.advance",
            N_("The shop's other moves: car arrived, car returned, ship, issue policy, ..."),
            ADVANCE)
def shop_advance(user, order_id, body):
    order = shop_order(user, order_id)
    inputs = {k: v for k, v in body.items() if k not in ("action", "note")}
    orders.advance(order, body["action"], user, body.get("note", ""), **inputs)
    return order_detail(order, user)
