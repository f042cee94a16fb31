"""The customer app: place an order of any type, answer the quote, pay (sandbox), review,
complain, ask for rework, decide cost changes, book an appointment; and read my vehicles, my
coupons and a supplier's free time slots. Each call is one operation of console.orders."""
import datetime as dt
import uuid

from flask_babel import gettext as _

from console import orders
from console.api import errors, iso, route
from console.api import schema as s
from console.api.orders import (
    ORDER_DETAIL,
    SUPPLIER_REF,
    get_visible_order,
    order_detail,
    profiles,
)
from console.api.schema import N_
from console.db import utcnow
from console.models import (
    CarModel,
    Order,
    ProgressReport,
    ServiceItem,
    Supplier,
    SupplierTimeSlot,
    Vehicle,
)
from console.orders import aftersales, appointments
from console.orders.types import ORDER_TYPES

SLOT_DAYS_AHEAD = 31

VEHICLE = s.component("Vehicle", s.obj({
    "id": s.integer(), "plate": s.string(), "vin": s.string(),
    "car_model": s.obj({"id": s.integer(), "name": s.string()}, required=("id", "name")),
    "purchase_year": s.integer(null=True), "mileage_km": s.integer(minimum=0),
}, required=("id", "plate", "vin", "car_model", "purchase_year", "mileage_km")))
COUPON = s.component("Coupon", s.obj({
    "code": s.string(), "name": s.string(), "amount_fen": s.money(),
    "valid_until": s.timestamp(null=True),
}, required=("code", "name", "amount_fen", "valid_until")))
SLOT = s.component("TimeSlot", s.obj({
    "id": s.integer(), "date": s.date(), "start": s.string(description="HH:MM local time"),
    "free": s.integer(minimum=0), "supplier": SUPPLIER_REF,
}, required=("id", "date", "start", "free", "supplier")))


def customer_of(user):
    """The caller's customer profile; an account without one may not use customer calls."""
    customer = profiles(user)[0]
    if customer is None:
        raise errors.forbidden()
    return customer


@route("/vehicles", "GET", resource="api.vehicles.list", tag="customer",
       responses={200: s.obj({"items": s.array(VEHICLE)}, required=("items",))},
       summary=N_("My vehicles"))
def list_vehicles(user):
    customer = customer_of(user)
    rows = (Vehicle.select(Vehicle, CarModel).join(CarModel)
            .where(Vehicle.customer == customer.id, Vehicle.is_deleted == False)  # noqa: E712
            .order_by(Vehicle.id))
    return {"items": [{"id": v.id, "plate": v.plate, "vin": v.vin,
                       "car_model": {"id": v.car_model.id, "name": str(v.car_model)},
                       "purchase_year": v.purchase_year, "mileage_km": v.mileage_km}
                      for v in rows]}


@route("/coupons", "GET", resource="api.coupons.list", tag="customer",
       responses={200: s.obj({"items": s.array(COUPON)}, required=("items",))},
       summary=N_("My coupons"),
       description="Coupons arrive with the coupon module (a later issue); until then the "
                   "list is always empty.")
def list_coupons(user):
    customer_of(user)
    return {"items": []}


SLOT_QUERY = s.obj({"date": s.date(description="local date; default today")})


@route("/suppliers/<int:supplier_id>/slots", "GET", resource="api.slots.list", tag="customer",
       query=SLOT_QUERY, responses={200: s.obj({"items": s.array(SLOT)}, required=("items",))},
       summary=N_("A supplier's bookable time slots on one day (free places only)"))
def list_slots(user, supplier_id, query):
    supplier = Supplier.get_or_none(Supplier.id == supplier_id, Supplier.is_active == True)  # noqa: E712,E501
    if supplier is None:
        raise errors.not_found(_("No supplier %(id)s.", id=supplier_id))
    day = dt.date.fromisoformat(query["date"]) if query.get("date") else utcnow().date()
    if not utcnow().date() - dt.timedelta(days=1) <= day <= \
            utcnow().date() + dt.timedelta(days=SLOT_DAYS_AHEAD):
        raise errors.invalid("date", _("date: choose a day within the next %(days)s days.",
                                       days=SLOT_DAYS_AHEAD))
    rows = (SupplierTimeSlot.select()
            .where(SupplierTimeSlot.supplier == supplier.id, SupplierTimeSlot.date == day,
                   SupplierTimeSlot.booked < SupplierTimeSlot.capacity)
            .order_by(SupplierTimeSlot.start))
    ref = {"id": supplier.id, "name": supplier.name}
    return {"items": [{"id": slot.id, "date": iso(slot.date), "start": slot.start.strftime("%H:%M"),
                       "free": slot.free, "supplier": ref} for slot in rows]}


# ---- placing an order ------------------------------------------------------------------
PLACE_ORDER = s.component("PlaceOrder", s.obj({
    "order_type": s.string(enum=ORDER_TYPES),
    "vehicle_id": s.integer(minimum=1, null=True, description=(
        "required for maintenance, detailing, insurance and towing")),
    "supplier_id": s.integer(minimum=1, null=True, description=(
        "the shop; required for maintenance, detailing, insurance, parts, rental, used car")),
    "item_ids": s.array(s.integer(minimum=1), max_items=30, unique=True,
                        description="the supplier's approved service items, each once"),
    "needs_butler": s.boolean(description="a butler fetches the car (repair types only)"),
    "slot_id": s.integer(minimum=1, null=True, description="book this time slot of the shop"),
    "distance_m": s.integer(minimum=0, maximum=2_000_000, description=(
        "trip distance for butler fees and driving; required for designated driving")),
    "details": s.obj({
        "months": {"type": "integer", "enum": [1, 3, 12], "description": "VIP plan"},
        "pickup_address": s.string(200), "destination_address": s.string(200),
        "start_date": s.date(), "end_date": s.date()}),
    "note": s.string(2000),
}, required=("order_type",)))
PLACE_FIELDS = {"vehicle": "vehicle_id", "supplier": "supplier_id", "items": "item_ids",
                "slot": "slot_id", "months": "details.months"}


def _find(model, row_id, field):
    """The row an id in the body names; an unknown id is bad input, named by its field."""
    if row_id is None:
        return None
    row = model.get_or_none(model.id == row_id)
    if row is None:
        raise errors.invalid(field, _("%(field)s: %(id)s does not exist.", field=field,
                                      id=row_id))
    return row


def _items(ids):
    found = {i.id: i for i in ServiceItem.select().where(ServiceItem.id.in_(ids or [0]))}
    missing = [i for i in ids or () if i not in found]
    if missing:
        raise errors.invalid("item_ids", _("%(field)s: %(id)s does not exist.",
                                           field="item_ids", id=missing[0]))
    return [found[i] for i in ids or ()]


@route("/orders", "POST", resource="api.orders.place", tag="customer", body=PLACE_ORDER,
       responses={201: ORDER_DETAIL}, errors=(409,), fields=PLACE_FIELDS,
       summary=N_("Place an order of any type"),
       description="The estimate, fees and rule versions come from the catalogue and the "
                   "pricing rules in force; a butler task goes straight to the task hall.")
def place_order(user, body):
    customer = customer_of(user)
    order = orders.place_order(
        customer, body["order_type"],
        vehicle=_find(Vehicle, body.get("vehicle_id"), "vehicle_id"),
        supplier=_find(Supplier, body.get("supplier_id"), "supplier_id"),
        items=_items(body.get("item_ids")), needs_butler=body.get("needs_butler", False),
        slot=_find(SupplierTimeSlot, body.get("slot_id"), "slot_id"),
        distance_m=body.get("distance_m", 0), details=body.get("details"),
        note=body.get("note", ""), actor=user)
    return order_detail(order, user), 201


# ---- the customer's moves on an order ----------------------------------------------------
def _reason(required=True, limit=500):
    return s.obj({"reason": s.string(limit, min_length=1 if required else None)},
                 required=("reason",) if required else ())


def _move(rule, resource, summary, body=None, **extra):
    """A customer move: POST /orders/<id>/<rule>, answering the order as it is now."""
    return route(f"/orders/<int:order_id>/{rule}", "POST", resource=resource, tag="customer",
                 body=body, responses={200: ORDER_DETAIL}, errors=(409,), summary=summary,
                 **extra)


@_move("quote/confirm", "api.orders.confirm_quote", N_("Confirm the shop's quote"))
def confirm_quote(user, order_id):
    order = get_visible_order(user, order_id)
    orders.confirm_quote(order, user)
    return order_detail(order, user)


@_move("quote/reject", "api.orders.reject_quote", N_("Refuse the shop's quote"),
       body=_reason(required=False))
def reject_quote(user, order_id, body):
    order = get_visible_order(user, order_id)
    orders.reject_quote(order, user, body.get("reason", ""))
    return order_detail(order, user)


@_move("cancel", "api.orders.cancel", N_("Cancel my order"), body=_reason())
def cancel_order(user, order_id, body):
    order = get_visible_order(user, order_id)
    orders.cancel(order, user, body["reason"])
    return order_detail(order, user)


REVIEW = s.obj({"stars": s.integer(minimum=1, maximum=5, description="the shop"),
                "butler_stars": s.integer(minimum=1, maximum=5, description="the butler"),
                "words": s.string(1000)}, required=("stars",))


@_move("review", "api.orders.review", N_("Review the service"), body=REVIEW)
def review_order(user, order_id, body):
    order = get_visible_order(user, order_id)
    orders.review(order, user, body["stars"], body.get("words", ""), body.get("butler_stars"))
    return order_detail(order, user)


@_move("complaints", "api.orders.complain", N_("Complain about an order"),
       body=s.obj({"text": s.string(2000, min_length=1)}, required=("text",)))
def complain(user, order_id, body):
    order = get_visible_order(user, order_id)
    aftersales.complain(order, user, body["text"])
    return order_detail(order, user)


@_move("rework", "api.orders.rework", N_("Ask for rework"), body=_reason(limit=2000))
def request_rework(user, order_id, body):
    order = get_visible_order(user, order_id)
    aftersales.request_rework(order, user, body["reason"])
    return order_detail(order, user)


def _report(order, report_id):
    report = ProgressReport.get_or_none(ProgressReport.id == report_id,
                                        ProgressReport.order == order.id)
    if report is None:
        raise errors.not_found(_("No progress report %(id)s on this order.", id=report_id))
    return report


@_move("progress/<int:report_id>/confirm", "api.orders.cost_change",
       N_("Accept a cost change the shop reported"))
def confirm_cost_change(user, order_id, report_id):
    order = get_visible_order(user, order_id)
    aftersales.confirm_cost_change(_report(order, report_id), user)
    return order_detail(Order.get_by_id(order.id), user)


@_move("progress/<int:report_id>/reject", "api.orders.cost_change",
       N_("Refuse a cost change the shop reported"), body=_reason(required=False))
def reject_cost_change(user, order_id, report_id, body):
    order = get_visible_order(user, order_id)
    aftersales.reject_cost_change(_report(order, report_id), user, body.get("reason", ""))
    return order_detail(Order.get_by_id(order.id), user)


def _own(user, order_id):
    """An order the caller placed; any other answers 404 like one they cannot see."""
    order = get_visible_order(user, order_id)
    if order.customer_user_id != user.id:
        raise errors.not_found(_("No order %(id)s among the orders you can see.", id=order_id))
    return order


@_move("appointment", "api.orders.appointment", N_("Book a time slot at the order's shop"),
       body=s.obj({"slot_id": s.integer(minimum=1)}, required=("slot_id",)),
       fields={"slot": "slot_id"})
def book_appointment(user, order_id, body):
    order = _own(user, order_id)
    slot = _find(SupplierTimeSlot, body["slot_id"], "slot_id")
    appointments.book_for_order(order, slot, user)
    return order_detail(order, user)


# ---- paying through the sandbox gateway ------------------------------------------------
SANDBOX_DECLINED_CARD = "4000000000000002"
PAY = s.obj({
    "channel": s.string(enum=("alipay", "wechat", "unionpay")),
    "amount_fen": s.integer(minimum=1, maximum=10**12,
                            description="must equal the order's amount_due_fen"),
    "sandbox_card": s.string(32, description=(
        f"SANDBOX: {SANDBOX_DECLINED_CARD} is declined (409 payment_declined); any other "
        "value, or none, is approved")),
}, required=("channel", "amount_fen"))
PAYMENT_RESULT = s.component("PaymentResult", s.obj({
    "payment": s.obj({"ref": s.string(), "channel": s.string(), "amount_fen": s.money(),
                      "status": s.string(enum=("succeeded",))},
                     required=("ref", "channel", "amount_fen", "status")),
    "order": ORDER_DETAIL}, required=("payment", "order")))


def sandbox_charge(channel, amount_fen, card):
    """The sandbox gateway: no money moves. Deterministic, so tests and demos can show both
    outcomes: one documented card number is declined, everything else is approved."""
    approved = (card or "").replace(" ", "") != SANDBOX_DECLINED_CARD
    return approved, f"SBX-{channel[:3].upper()}-{uuid.uuid4().hex[:16]}"


@route("/orders/<int:order_id>/pay", "POST", resource="api.orders.pay", tag="customer",
       body=PAY, responses={200: PAYMENT_RESULT}, errors=(409,),
       summary=N_("Pay the amount due (sandbox gateway)"),
       description="SANDBOX until the payment module arrives: nothing is charged. The "
                   "gateway's confirmation marks the order paid through the orders module's "
                   "payment interface (`mark_paid`), exactly as a real callback will.")
def pay(user, order_id, body):
    order = _own(user, order_id)
    if "pay" not in orders.available_actions(order, None):  # the gateway's move, not ours
        raise errors.ApiError(409, "illegal_move", _(
            "Order %(order_no)s is not waiting for a payment.", order_no=order.order_no))
    if body["amount_fen"] != order.amount_due_fen:
        raise errors.invalid("amount_fen", _(
            "amount_fen: %(amount)s fen offered, but %(due)s fen is due.",
            amount=body["amount_fen"], due=order.amount_due_fen))
    approved, ref = sandbox_charge(body["channel"], body["amount_fen"], body.get("sandbox_card"))
    if not approved:
        raise errors.ApiError(409, "payment_declined", _(
            "The payment was declined by the (sandbox) gateway; nothing was charged."))
    orders.mark_paid(order, ref, body["amount_fen"])
    return {"payment": {"ref": ref, "channel": body["channel"], "amount_fen": body["amount_fen"],
                        "status": "succeeded"}, "order": order_detail(order, user)}
