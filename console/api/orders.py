"""Orders as the apps see them: who may see which order, the summary and detail shapes, and
the list and detail endpoints every app role shares.

A customer sees their own orders; a butler the orders they serve plus the open tasks of
their city; supplier staff their supplier's orders; anyone else their data scope. An order
outside that answers 404, the same as one that does not exist."""
import operator
from functools import reduce

from flask_babel import gettext as _

from console import orders
from console.api import errors, iso, route
from console.api import schema as s
from console.api.schema import N_
from console.models import (
    Appointment,
    Butler,
    Customer,
    Order,
    OrderEvent,
    OrderLine,
    Organization,
    ProgressReport,
    Supplier,
    SupplierTimeSlot,
    Vehicle,
)
from console.orders.states import HALL_STATES
from console.orders.types import ORDER_TYPES
from console.system import rbac

PAGE_SIZE, MAX_PAGE = 20, 100


# ---- who sees what ---------------------------------------------------------------------
def profiles(user):
    """The app profiles behind an account: (customer, butler, supplier), each or None."""
    orgs = user.organization.ancestors_and_self_ids()  # staff may sit in a team of the shop
    customer = Customer.get_or_none(Customer.user == user.id,
                                    Customer.is_deleted == False)  # noqa: E712
    return (customer, Butler.get_or_none(Butler.user == user.id),
            Supplier.select().where(Supplier.organization.in_(orgs)).first())


def visibility(user):
    """WHERE for the orders `user` may see through the API (None: no limit)."""
    customer, butler, supplier = profiles(user)
    conditions = []
    if customer is not None:
        conditions.append(Order.customer_user == user.id)
    if butler is not None:
        conditions.append(Order.butler == butler.id)
        if butler.city_id:
            conditions.append(Order.status.in_(sorted(HALL_STATES)) & Order.butler.is_null() &
                              (Order.city == butler.city_id))
    if supplier is not None:
        conditions.append(Order.supplier == supplier.id)
    if not conditions:
        return rbac.scope_condition(Order, user)
    return reduce(operator.or_, conditions)


def visible_orders(user):
    condition = visibility(user)
    query = Order.select()
    return query if condition is None else query.where(condition)


def get_visible_order(user, order_id):
    """The order if `user` may see it; 404 otherwise (never 403: ids are not confirmed)."""
    order = visible_orders(user).where(Order.id == order_id).first()
    if order is None:
        raise errors.not_found(_("No order %(id)s among the orders you can see.", id=order_id))
    return order


# ---- shapes ----------------------------------------------------------------------------
def _ref(name, label_field, label_schema=None):
    return s.component(name, s.obj({"id": s.integer(), label_field: label_schema or s.string()},
                                   required=("id", label_field)))


CUSTOMER_REF = _ref("CustomerRef", "name")
VEHICLE_REF = _ref("VehicleRef", "plate")
SUPPLIER_REF = _ref("SupplierRef", "name")
BUTLER_REF = _ref("ButlerRef", "name")
CITY_REF = _ref("CityRef", "name")

SUMMARY_FIELDS = {
    "id": s.integer(),
    "order_no": s.string(description="type letter + local date + sequence"),
    "order_type": s.string(enum=ORDER_TYPES),
    "status": s.string(),
    "placed_at": s.timestamp(),
    "updated_at": s.timestamp(),
    "estimate_fen": s.money(),
    "final_fen": s.money(null=True, description="the shop's final price; null before a quote"),
    "paid_fen": s.money(),
    "amount_due_fen": s.money(description="what the customer still owes"),
    "needs_butler": s.boolean(),
    "customer": CUSTOMER_REF,
    "vehicle": s.nullable(VEHICLE_REF),
    "supplier": s.nullable(SUPPLIER_REF),
    "butler": s.nullable(BUTLER_REF),
    "city": CITY_REF,
}
ORDER_SUMMARY = s.component("OrderSummary", s.obj(SUMMARY_FIELDS, required=SUMMARY_FIELDS))

EVENT = s.component("OrderEvent", s.obj({
    "at": s.timestamp(), "actor_role": s.string(), "action": s.string(),
    "from_status": s.string(null=True), "to_status": s.string(), "note": s.string(),
    "amounts": s.any_of(s.obj({}, open_ended=True), {"type": "null"},
                        description="money changed by the move: {field: [before, after]}"),
}, required=("at", "actor_role", "action", "from_status", "to_status", "note", "amounts")))
LINE = s.component("OrderLine", s.obj({
    "kind": s.string(), "name": s.string(), "qty": s.integer(), "unit_fen": s.integer(),
    "amount_fen": s.integer(description="fen; negative for a discount"),
    "source": s.string(description="estimate, final or change"),
}, required=("kind", "name", "qty", "unit_fen", "amount_fen", "source")))
PROGRESS = s.component("ProgressReport", s.obj({
    "id": s.integer(), "at": s.timestamp(), "text": s.string(),
    "photos": s.array(s.integer(), description="uploaded file ids"),
    "cost_change_fen": s.integer(description="fen; may be negative"),
    "cost_change_status": s.string(enum=("none", "pending", "confirmed", "rejected")),
}, required=("id", "at", "text", "photos", "cost_change_fen", "cost_change_status")))
APPOINTMENT = s.component("Appointment", s.obj({
    "id": s.integer(), "date": s.date(), "start": s.string(description="HH:MM local time"),
    "status": s.string(), "supplier": SUPPLIER_REF,
}, required=("id", "date", "start", "status", "supplier")))

QUOTE_DIFFERENCE = s.component("QuoteDifference", s.obj({
    "estimate_fen": s.money(), "final_fen": s.money(), "difference_fen": s.integer(),
    "lines": s.array(s.obj({
        "kind": s.string(), "name": s.string(), "estimate_fen": s.integer(null=True),
        "final_fen": s.integer(null=True), "difference_fen": s.integer()},
        required=("kind", "name", "estimate_fen", "final_fen", "difference_fen"))),
}, required=("estimate_fen", "final_fen", "difference_fen", "lines"),
    description="how the shop's final price differs from the estimate, line by line"))

DETAIL_FIELDS = dict(SUMMARY_FIELDS, **{
    "service_code": s.string(null=True, description=(
        "消费码, shown to the customer only; the supplier asks for it on arrival")),
    "details": s.obj({}, open_ended=True, description="type-specific fields"),
    "note": s.string(),
    "lines": s.array(LINE),
    "events": s.array(EVENT, description="the timeline, oldest first"),
    "progress": s.array(PROGRESS),
    "appointments": s.array(APPOINTMENT),
    "actions": s.array(s.string(), description="the moves the caller may make now"),
    "quote_difference": s.nullable(QUOTE_DIFFERENCE),
})
ORDER_DETAIL = s.component("Order", s.obj(DETAIL_FIELDS, required=DETAIL_FIELDS))
ORDER_PAGE = s.page_of(ORDER_SUMMARY, "OrderPage")


def _names(model, ids, label):
    ids = {i for i in ids if i}
    if not ids:
        return {}
    return {row.id: {"id": row.id, label: getattr(row, label)}
            for row in model.select(model.id, getattr(model, label)).where(model.id.in_(ids))}


def order_summaries(orders):
    """Summaries of many orders with five lookups in all, not five per order."""
    customers = _names(Customer, (o.customer_id for o in orders), "name")
    vehicles = _names(Vehicle, (o.vehicle_id for o in orders), "plate")
    suppliers = _names(Supplier, (o.supplier_id for o in orders), "name")
    butlers = _names(Butler, (o.butler_id for o in orders), "name")
    cities = _names(Organization, (o.city_id for o in orders), "name")
    return [{
        "id": o.id, "order_no": o.order_no, "order_type": o.order_type, "status": o.status,
        "placed_at": iso(o.placed_at), "updated_at": iso(o.updated_at),
        "estimate_fen": o.estimate_fen, "final_fen": o.final_fen, "paid_fen": o.paid_fen,
        "amount_due_fen": o.amount_due_fen, "needs_butler": o.needs_butler,
        "customer": customers.get(o.customer_id), "vehicle": vehicles.get(o.vehicle_id),
        "supplier": suppliers.get(o.supplier_id), "butler": butlers.get(o.butler_id),
        "city": cities.get(o.city_id)} for o in orders]


def order_detail(order, user):
    detail = order_summaries([order])[0]
    events = OrderEvent.select().where(OrderEvent.order == order.id).order_by(
        OrderEvent.at, OrderEvent.id)
    appointments = (Appointment.select(Appointment, SupplierTimeSlot).join(SupplierTimeSlot)
                    .where(Appointment.order == order.id).order_by(Appointment.id))
    suppliers = _names(Supplier, (a.slot.supplier_id for a in appointments), "name")
    detail.update({
        "service_code": order.service_code if order.customer_user_id == user.id else None,
        "details": order.details or {}, "note": order.note,
        "lines": [{"kind": ln.kind, "name": ln.name, "qty": ln.qty, "unit_fen": ln.unit_fen,
                   "amount_fen": ln.amount_fen, "source": ln.source}
                  for ln in OrderLine.select().where(OrderLine.order == order.id)
                  .order_by(OrderLine.id)],
        "events": [{"at": iso(e.at), "actor_role": e.actor_role, "action": e.action,
                    "from_status": e.from_status, "to_status": e.to_status, "note": e.note,
                    "amounts": e.amounts} for e in events],
        "progress": [{"id": p.id, "at": iso(p.at), "text": p.text, "photos": p.photos or [],
                      "cost_change_fen": p.cost_change_fen,
                      "cost_change_status": p.cost_change_status}
                     for p in ProgressReport.select().where(ProgressReport.order == order.id)
                     .order_by(ProgressReport.at, ProgressReport.id)],
        "appointments": [{"id": a.id, "date": iso(a.slot.date),
                          "start": a.slot.start.strftime("%H:%M"), "status": a.status,
                          "supplier": suppliers[a.slot.supplier_id]} for a in appointments],
        "actions": orders.available_actions(order, user),
        "quote_difference": (orders.quote_difference(order) if order.final_fen is not None
                             else None),
    })
    return detail


# ---- endpoints -------------------------------------------------------------------------
LIST_QUERY = s.obj({
    "status": s.string(40), "order_type": s.string(enum=ORDER_TYPES),
    "cursor": s.id_cursor("`next_cursor` of the previous page"),
    "limit": s.integer(minimum=1, maximum=MAX_PAGE, description=f"default {PAGE_SIZE}"),
})


@route("/orders", "GET", resource="api.orders.list", tag="orders", query=LIST_QUERY,
       responses={200: ORDER_PAGE}, summary=N_("List my orders, newest first"))
def list_orders(user, query):
    limit = query.get("limit", PAGE_SIZE)
    rows = visible_orders(user)
    if query.get("status"):
        rows = rows.where(Order.status == query["status"])
    if query.get("order_type"):
        rows = rows.where(Order.order_type == query["order_type"])
    if query.get("cursor"):
        rows = rows.where(Order.id < int(query["cursor"]))
    rows = list(rows.order_by(Order.id.desc()).limit(limit + 1))
    more = len(rows) > limit
    rows = rows[:limit]
    return {"items": order_summaries(rows),
            "next_cursor": str(rows[-1].id) if more and rows else None}


@route("/orders/<int:order_id>", "GET", resource="api.orders.read", tag="orders",
       responses={200: ORDER_DETAIL}, summary=N_("One order with its timeline"))
def show_order(user, order_id):
    return order_detail(get_visible_order(user, order_id), user)
