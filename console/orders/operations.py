"""Order operations: place an order of any type, grab / assign / refuse, quote and the
customer's answer, payment through the payment module's interface, review, cancel and the other
moves of the lifecycles. Each is one transaction built on `transition()`, so each writes its
order event and audit row, and an illegal move changes nothing.

The after-sales records (progress reports, rework, complaints, follow-ups, service history)
live in `console.orders.aftersales`; appointments in `console.orders.appointments`."""
import datetime as dt

from flask import current_app, has_app_context
from flask_babel import lazy_gettext as _l

from console import people
from console.catalogue import items as catalogue
from console.catalogue import pricing
from console.common.money import MAX_FEN, format_yuan
from console.common.tx import writing
from console.db import is_postgres, utcnow
from console.errors import NotFound, TooMany
from console.models import (
    LINE_KINDS,
    VEHICLE_TYPES,
    AuditLog,
    Butler,
    Customer,
    Order,
    OrderEvent,
    OrderLine,
    PricingRuleSet,
    Review,
    ReworkRequest,
    ServiceItem,
    User,
)
from console.orders import appointments
from console.orders.engine import (
    FAMILY_OF,
    OrderInputError,
    OrderStateError,
    available_actions,
    butler_of,
    fen,
    initial_state,
    insert_order,
    next_order_no,
    say,
    timeline,
    transition,
)
from console.orders.engine import plain_text as text
from console.orders.states import HALL_STATES, TRANSITIONS
from console.orders.types import ORDER_TYPE_LABELS
from console.system import audit, params

SUPPLIED_FAMILIES = {"repair", "insurance", "parts", "rental", "used_car"}  # need a supplier
DRIVEN_FAMILIES = {"towing", "designated_driving"}  # always a butler's task
STARS_TO_RATING = {5: "good", 4: "good", 3: "neutral", 2: "bad", 1: "bad"}


# ---- placing ---------------------------------------------------------------------------
def _order_family(order_type):
    if order_type not in FAMILY_OF:
        raise OrderInputError("order_type", _l("Order type: unknown type %(value)r.",
                                               value=order_type))
    return FAMILY_OF[order_type]


def _check_vehicle(order_type, customer, vehicle):
    if vehicle is None:
        if order_type in VEHICLE_TYPES:
            raise OrderInputError("vehicle", _l("Vehicle: required for this order type."))
        return None
    if vehicle.customer_id != customer.id or vehicle.is_deleted:
        raise OrderInputError("vehicle", _l("Vehicle: not one of this customer's cars."))
    return vehicle


def _check_supplier(family, order_type, supplier):
    if family not in SUPPLIED_FAMILIES:
        return None
    if supplier is None:
        raise OrderInputError("supplier", _l("Supplier: required for this order type."))
    if not supplier.is_active or order_type not in supplier.service_types:
        raise OrderInputError("supplier", _l("Supplier: %(name)s does not take %(type)s "
                                             "orders.", name=supplier.name,
                                             type=ORDER_TYPE_LABELS[order_type]))
    return supplier


def _check_items(order_type, items, supplier, vehicle):
    items = list(items or ())
    car_model = vehicle.car_model if vehicle else None
    seen = set()
    for item in items:
        if not isinstance(item, ServiceItem) or supplier is None or \
                item.supplier_id != supplier.id or item.order_type != order_type or \
                not catalogue.is_orderable(item, car_model):
            raise OrderInputError("items", _l("Items: %(item)s cannot be ordered here (another "
                                              "supplier or type, not approved, or not for "
                                              "this car).", item=str(item)))
        if item.id in seen:  # a service is done once per order: twice would double its price
            raise OrderInputError("items", _l("Items: %(item)s is listed twice; list each "
                                              "service once.", item=str(item)))
        seen.add(item.id)
    return items


def _rules(*kinds):
    return PricingRuleSet.rules(*kinds)


def _charge(calculate, *args):
    try:
        return calculate(*args)
    except pricing.PricingError as exc:
        raise OrderInputError(exc.field, exc.message) from None


def _prices(order_type, family, items, vehicle, needs_butler, distance_m, details, now):
    """Estimate and fees with the rule versions used: (values, versions, estimate lines)."""
    values, versions, lines = {}, {}, []
    if family == "vip":
        values["estimate_fen"] = params.vip_plans()[details["months"]]
    elif family == "designated_driving":
        charge = _charge(pricing.designated_driving_fee, distance_m, now,
                         _rules("designated_driving_fee"))
        values["estimate_fen"], versions[charge.kind] = charge.amount, charge.rule_id
    elif items:
        charge = _charge(pricing.estimate, items, vehicle.car_model if vehicle else None,
                         _rules("estimate"), now)
        values["estimate_fen"], versions[charge.kind] = charge.amount, charge.rule_id
        lines = estimate_lines(items, charge.amount)
    if needs_butler and family == "repair":
        charge = _charge(pricing.butler_fee, distance_m, now, _rules("butler_fee"))
        values["butler_fee_fen"], versions[charge.kind] = charge.amount, charge.rule_id
    if family != "vip":
        charge = _charge(pricing.delivery_fee, order_type, _rules("delivery_fee"), now)
        values["delivery_fee_fen"], versions[charge.kind] = charge.amount, charge.rule_id
    return values, versions, lines


def estimate_lines(items, estimate_fen):
    """The items at their list prices, and one line for what the pricing rule added (tier,
    markup, minimum), so the lines always add up to the estimate."""
    lines = []
    for item in items:
        lines.append(dict(kind="labour", name=item.name, qty=1, unit_fen=item.labour_price_fen,
                          amount_fen=item.labour_price_fen, service_item=item.id))
        for part in item.parts:
            lines.append(dict(kind="part", name=part.name, qty=part.quantity,
                              unit_fen=part.unit_price_fen,
                              amount_fen=part.quantity * part.unit_price_fen,
                              service_item=item.id))
    rest = estimate_fen - sum(line["amount_fen"] for line in lines)
    if rest:
        lines.append(dict(kind="fee", name=say(_l("Pricing rule adjustment"), _locale()),
                          qty=1, unit_fen=rest, amount_fen=rest))
    return lines


def _locale():
    return current_app.config["CONSOLE_LOCALE"] if has_app_context() else "en"


def _check_details(family, details, distance_m):
    details = dict(details or {})
    if family == "vip" and details.get("months") not in params.VIP_PLAN_KEYS:
        raise OrderInputError("months", _l("VIP: choose a plan of 1, 3 or 12 months."))
    if isinstance(distance_m, bool) or not isinstance(distance_m, int) or distance_m < 0:
        raise OrderInputError("distance_m", _l("Distance: whole metres, not negative."))
    if family == "designated_driving" and not distance_m:  # the fare is priced by it
        raise OrderInputError("distance_m", _l("Distance: required for designated driving "
                                               "(the estimate follows it)."))
    return details


def place_order(customer, order_type, *, vehicle=None, items=(), supplier=None,
                needs_butler=False, slot=None, city=None, distance_m=0, details=None, note="",
                actor=None, now=None):
    """Place an order for `customer` (actor: who placed it; the customer's own login by
    default). Computes the estimate and fees from the catalogue and the pricing rules in
    force, recording their versions; gives a readable order number and an unguessable service
    code; books the appointment slot; a butler task goes straight to the task hall."""
    family = _order_family(order_type)
    now = now or utcnow()
    vehicle = _check_vehicle(order_type, customer, vehicle)
    supplier = _check_supplier(family, order_type, supplier)
    items = _check_items(order_type, items, supplier, vehicle)
    details = _check_details(family, details, distance_m)
    if customer.is_deleted:
        raise OrderInputError("customer", _l("Customer: this account is closed."))
    if needs_butler and family not in ("repair", *DRIVEN_FAMILIES):
        raise OrderInputError("needs_butler", _l("Butler: only repair and detailing orders "
                                                 "ask for a butler to fetch the car."))
    needs_butler = bool(needs_butler) or family in DRIVEN_FAMILIES
    if slot is not None and supplier is None:
        raise OrderInputError("slot", _l("Appointment: this order type has no shop visit."))
    city = city or (supplier.city if supplier else people.city_of(customer.organization))
    if city is None or city.kind != "city":
        raise OrderInputError("city", _l("City: choose the city the order is served in."))
    amounts, versions, lines = _prices(order_type, family, items, vehicle, needs_butler,
                                       distance_m, details, now)
    if sum(amounts.values()) > MAX_FEN:  # 30 items of a ¥1,000,000 price list would overflow
        raise OrderInputError("items", _l("Items: the order would come to more than "
                                          "%(maximum)s.", maximum=format_yuan(MAX_FEN)))
    if distance_m:
        details["distance_m"] = distance_m
    actor = actor or customer.user
    with writing():
        order = insert_order(dict(
            order_no=next_order_no(order_type, now), order_type=order_type,
            status=initial_state(order_type), customer=customer.id,
            customer_user=customer.user_id, vehicle=vehicle.id if vehicle else None,
            supplier=supplier.id if supplier else None,
            supplier_org=supplier.organization_id if supplier else None, city=city.id,
            needs_butler=needs_butler, pricing_rule_versions=versions, details=details,
            note=text(note, "note", required=False), placed_at=now, updated_at=now,
            grab_deadline=grab_deadline(order_type, city.id, now)
            if family in DRIVEN_FAMILIES else None, **amounts))
        OrderEvent.create(order=order.id, at=now, actor=actor.id if actor else None,
                          actor_role="customer" if actor and actor.id == customer.user_id
                          else "customer_service", action="place", from_status=None,
                          to_status=order.status, amounts={k: [None, v] for k, v in
                                                           amounts.items()} or None)
        _add_lines(order, lines, "estimate")
        if slot is not None:
            appointments.book(order, slot, now)
        audit.record("place", order, None, audit.snapshot(order), actor=actor)
        if needs_butler and family == "repair":
            transition(order, "publish", None, now=now,
                       changes={"grab_deadline": grab_deadline(order_type, city.id, now)})
    return order


def _add_lines(order, lines, source, progress=None):
    if lines:
        OrderLine.insert_many([dict(line, order=order.id, source=source,
                                    progress=progress.id if progress else None)
                               for line in lines]).execute()


# ---- butler tasks ----------------------------------------------------------------------
def _check_butler(order, butler):
    if butler is None or not people.can_take_work(butler):
        raise OrderStateError("butler_unavailable", _l(
            "This butler cannot take work now (not active, or no licence points left)."))
    if butler.city_id and butler.city_id != order.city_id:
        raise OrderStateError("butler_unavailable", _l(
            "This butler works in another city."))


def grab_deadline(order_type, city_id, now):
    """When a task published at `now` leaves the task hall for the dispatch board: the grab
    window (参数设置 dispatch.grab_window) of its city and order type."""
    return now + dt.timedelta(minutes=params.param("dispatch.grab_window", city=city_id,
                                                   order_type=order_type))


def hall_tasks(city_id, after_id=None, limit=20):
    """The task hall (任务大厅) of a city: orders waiting for a butler that nobody holds,
    oldest first, keyset-paged by id."""
    query = Order.select().where(Order.status.in_(sorted(HALL_STATES)), Order.butler.is_null(),
                                 Order.city == city_id)
    if after_id is not None:
        query = query.where(Order.id > after_id)
    return list(query.order_by(Order.id).limit(limit))


def hall_task(butler, order_id):
    """A task of the butler's city by id, whatever its state now: grabbing one that was just
    taken is a conflict (overtaken), not "not found"; another city's task stays unseen."""
    order = Order.get_or_none(Order.id == order_id, Order.city == butler.city_id,
                              Order.needs_butler == True)  # noqa: E712
    if order is None:
        raise NotFound(_l("No order %(id)s among the orders you can see.", id=order_id))
    return order


def grab(order, butler, now=None):
    """抢单: the first grab wins (the conditional update); a later one gets OrderStateError."""
    _check_butler(order, butler)
    return transition(order, "grab", butler.user, role="butler", now=now,
                      changes={"butler": butler.id})


def assign(order, butler, dispatcher, reason, now=None):
    """派单 by a dispatcher (or the system when `dispatcher` is None), with the reason."""
    _check_butler(order, butler)
    reason = text(reason, "reason")
    return transition(order, "assign", dispatcher, note=reason, now=now,
                      changes={"butler": butler.id})


def refuse(order, butler_user, reason, now=None):
    """拒单: back to the task hall with the refusal counted and the bonus raised."""
    reason = text(reason, "reason")
    now = now or utcnow()
    butler = butler_of(butler_user)

    def changes(current):
        count = current.refusal_count + 1
        bonus = _charge(pricing.refusal_bonus, count, _rules("refusal_bonus"), now)
        return {"butler": None, "refusal_count": count, "bonus_fen": bonus.amount,
                "grab_deadline": grab_deadline(current.order_type, current.city_id, now),
                "pricing_rule_versions": {**current.pricing_rule_versions,
                                          "refusal_bonus": bonus.rule_id}}
    with writing():
        event = transition(order, "refuse", butler_user, note=reason, now=now, changes=changes)
        Butler.update(refusal_count=Butler.refusal_count + 1).where(
            Butler.id == butler.id).execute()
    return event


# ---- quote and the customer's answer -----------------------------------------------------
def check_lines(lines):
    """Quote lines: kind, name, qty ≥ 1, unit_fen ≥ 0 (a discount line subtracts)."""
    checked = []
    for number, line in enumerate(lines or (), start=1):
        field = f"lines[{number}]"
        if not isinstance(line, dict) or line.get("kind") not in LINE_KINDS:
            raise OrderInputError(field, _l("%(field)s: kind must be one of labour, part, fee, "
                                            "discount.", field=field))
        qty = line.get("qty", 1)
        if isinstance(qty, bool) or not isinstance(qty, int) or not 1 <= qty <= 10000:
            raise OrderInputError(field, _l("%(field)s: quantity is a whole number from 1.",
                                            field=field))
        unit = fen(line.get("unit_fen"), f"{field}.unit_fen")
        sign = -1 if line["kind"] == "discount" else 1
        checked.append(dict(kind=line["kind"], name=text(line.get("name"), f"{field}.name",
                                                           limit=120),
                            qty=qty, unit_fen=unit, amount_fen=sign * qty * unit,
                            service_item=getattr(line.get("service_item"), "id",
                                                 line.get("service_item"))))
    if not checked:
        raise OrderInputError("lines", _l("Lines: a quote lists at least one line."))
    if sum(line["amount_fen"] for line in checked) < 0:
        raise OrderInputError("lines", _l("Lines: the discounts exceed the total."))
    if any(abs(line["amount_fen"]) > MAX_FEN for line in checked) or \
            sum(line["amount_fen"] for line in checked) > MAX_FEN:
        raise OrderInputError("lines", _l("Lines: an order comes to at most %(maximum)s.",
                                          maximum=format_yuan(MAX_FEN)))
    return checked


def quote(order, supplier_user, lines, note=""):
    """The shop's final price after inspection, line by line (repair, insurance)."""
    lines = check_lines(lines)
    with writing():
        event = transition(order, "quote", supplier_user, note=text(note, "note", False),
                           changes={"final_fen": sum(line["amount_fen"] for line in lines)})
        _add_lines(order, lines, "final")
    return event


def quote_difference(order):
    """How the final price differs from the estimate, line by line (matched by kind and
    name): lines added, dropped and changed, and the total difference."""
    estimate, final = {}, {}
    for line in OrderLine.select().where(OrderLine.order == order.id,
                                         OrderLine.source.in_(("estimate", "final"))):
        side = estimate if line.source == "estimate" else final
        side[(line.kind, line.name)] = side.get((line.kind, line.name), 0) + line.amount_fen
    keys = sorted(set(estimate) | set(final))
    rows = [{"kind": k, "name": n, "estimate_fen": estimate.get((k, n)),
             "final_fen": final.get((k, n)),
             "difference_fen": final.get((k, n), 0) - estimate.get((k, n), 0)}
            for k, n in keys if estimate.get((k, n)) != final.get((k, n))]
    total = (order.final_fen or 0) - order.estimate_fen
    return {"estimate_fen": order.estimate_fen, "final_fen": order.final_fen,
            "difference_fen": total, "lines": rows}


def confirm_quote(order, customer_user):
    return transition(order, "confirm_quote", customer_user)


def reject_quote(order, customer_user, reason=""):
    return transition(order, "reject_quote", customer_user, note=text(reason, "reason", False))


def finish_repair(order, supplier_user, note=""):
    """Repair done. A rework with nothing more to pay goes straight on to `paid`."""
    with writing():
        event = transition(order, "finish_repair", supplier_user,
                           note=text(note, "note", False))
        if order.amount_due_fen == 0 and ReworkRequest.select().where(
                ReworkRequest.order == order.id, ReworkRequest.status == "open").exists():
            transition(order, "settle_rework", None, note="rework")
            ReworkRequest.update(status="done", done_at=utcnow()).where(
                ReworkRequest.order == order.id, ReworkRequest.status == "open").execute()
    return event


# ---- payment: only through the payment module's interface -------------------------------
def mark_paid(order, payment_ref, amount_fen, now=None):
    """Called by the payment module when the gateway confirms a payment of exactly the amount
    due. Idempotent per payment reference: a repeated callback returns the first event."""
    payment_ref = text(payment_ref, "payment_ref", limit=64)
    amount_fen = fen(amount_fen, "amount_fen", minimum=1)
    now = now or utcnow()
    seen = _payment_event(order, payment_ref)
    if seen is not None:
        return seen

    def changes(current):
        if amount_fen != current.amount_due_fen:
            raise OrderInputError("amount_fen", _l(
                "Amount: %(amount)s fen paid, but %(due)s fen is due.", amount=amount_fen,
                due=current.amount_due_fen))
        return {"paid_fen": current.paid_fen + amount_fen, "paid_at": now}
    try:
        with writing():
            event = transition(order, "pay", None, changes=changes, ref=payment_ref, now=now)
            if FAMILY_OF[order.order_type] == "vip":
                _activate_vip(order, now)
    except OrderStateError:
        seen = _payment_event(order, payment_ref)  # the same callback won a race
        if seen is not None:
            return seen
        raise
    return event


def _payment_event(order, payment_ref):
    return OrderEvent.get_or_none(OrderEvent.order == order.id, OrderEvent.action == "pay",
                                  OrderEvent.ref == payment_ref)


def _add_months(moment, months):
    month = moment.month - 1 + months
    year, month = moment.year + month // 12, month % 12 + 1
    day = min(moment.day, [31, 29 if year % 4 == 0 and (year % 100 or year % 400 == 0)
                           else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1])
    return moment.replace(year=year, month=month, day=day)


def _activate_vip(order, now):
    customer = order.customer
    start = max(now, customer.vip_until or now) if customer.level == "vip" else now
    until = _add_months(start, order.details["months"])
    transition(order, "activate", None, now=now,
               changes={"details": {**order.details, "vip_from": start.isoformat(),
                                    "vip_until": until.isoformat()}})
    people.set_vip(customer, until, None, reason=order.order_no)


def expire_memberships(now=None):
    """Job: move VIP memberships past their end to `expired` and the customer back to
    regular unless another membership still runs. Returns how many expired."""
    now = now or utcnow()
    expired = 0
    for order in Order.select().where(Order.order_type == "vip", Order.status == "active"):
        if order.details.get("vip_until", "") > now.isoformat():
            continue
        with writing():
            transition(order, "expire", None, now=now)
            customer = order.customer
            if customer.vip_until is not None and customer.vip_until <= now:
                people.set_vip(customer, None, None, reason=order.order_no)
        expired += 1
    return expired


JOBS = {"memberships": (expire_memberships, 3600)}  # name: (function, every N seconds)


# ---- the other moves -------------------------------------------------------------------
# Extra input some moves take, checked here: field -> (checker, where it is kept)
MOVE_INPUTS = {
    "value": {"final_fen": fen}, "finish_tow": {"final_fen": fen},
    "settle": {"final_fen": fen}, "end_trip": {"distance_m": None},
    "issue_policy": {"policy_no": text}, "ship": {"tracking_no": text},
}


def advance(order, action, user, note="", **inputs):
    """Any move that needs no more than a note and the inputs MOVE_INPUTS lists: pick up,
    arrive, return the car, ship, deliver, issue the policy, value, match, close, settle,
    depart, finish towing, start / end a trip, expire. Refusing, quoting, paying and
    the other moves with their own rules have their own functions."""
    if action in SPECIAL_MOVES:
        raise OrderInputError("action", _l("%(action)s has its own operation.", action=action))
    expected = MOVE_INPUTS.get(action, {})
    unknown = set(inputs) - set(expected)
    if unknown:
        raise OrderInputError(sorted(unknown)[0], _l("%(field)s: not an input of this move.",
                                                     field=sorted(unknown)[0]))
    changes = {}
    for field, check in expected.items():
        if field == "distance_m":
            changes.update(_trip_fare(order, inputs.get(field)))
        elif check is fen:
            changes[field] = fen(inputs.get(field), field)
        else:
            changes["details"] = {**order.details, field: text(inputs.get(field), field,
                                                               limit=60)}
    with writing():
        event = transition(order, action, user, note=text(note, "note", False),
                           changes=changes)
        if action in ("arrive", "pick_up") and order.supplier_id:
            appointments.complete(order)
    return event


def _trip_fare(order, distance_m):
    if isinstance(distance_m, bool) or not isinstance(distance_m, int) or distance_m < 0:
        raise OrderInputError("distance_m", _l("Distance: whole metres, not negative."))
    started = next((e.at for e in timeline(order) if e.action == "start_trip"), utcnow())
    fare = _charge(pricing.designated_driving_fee, distance_m, started,
                   _rules("designated_driving_fee"))
    return {"final_fen": fare.amount,
            "details": {**order.details, "distance_m": distance_m},
            "pricing_rule_versions": {**order.pricing_rule_versions,
                                      "designated_driving_fee": fare.rule_id}}


def cancel(order, user, reason):
    with writing():
        event = transition(order, "cancel", user, note=text(reason, "reason"))
        appointments.release(order)
    return event


# ---- refunds -----------------------------------------------------------------------------
def refund(order, user, reason, now=None):
    """退款, always with a reason. What was paid is recorded as refunded on the order (the
    money itself moves through the payment module). A VIP order also takes back the time it
    added: the customer's vip_until goes back by that period, and the customer is a regular
    customer again when none of their membership remains. One transaction; the audit shows
    the refund and the reversal."""
    reason = text(reason, "reason")
    now = now or utcnow()
    with writing():
        reversal = _vip_reversal(order, now, lock=True)

        def changes(current):
            details = {**current.details, "refunded_fen": current.paid_fen}
            if reversal is not None:
                details["vip_reversed"] = {key: _iso(value) for key, value in reversal.items()}
            return {"details": details}
        event = transition(order, "refund", user, note=reason, now=now, changes=changes)
        if reversal is not None:
            customer = Customer.get_by_id(order.customer_id)
            people.set_vip(customer, reversal["to"], user, reason=order.order_no)
            audit.record("reverse_vip", order, {"vip_until": _iso(reversal["from"])},
                         {"vip_until": _iso(reversal["to"])}, note=reason, actor=user)
    return event


def refund_preview(order, now=None):
    """What a refund of `order` would do now, for the confirmation page: the amount recorded
    as refunded and the VIP reversal ({"from": ..., "to": ...} or None)."""
    return {"refund_fen": order.paid_fen, "vip": _vip_reversal(order, now or utcnow())}


def _vip_reversal(order, now, lock=False):
    """{"from": the customer's vip_until now, "to": it less the period this order added, or
    None when nothing of the membership remains}; None when the order added no time."""
    until = order.details.get("vip_until")
    if FAMILY_OF[order.order_type] != "vip" or not until:
        return None
    end = dt.datetime.fromisoformat(until)
    start = order.details.get("vip_from")  # orders activated before it was kept: by months
    start = (dt.datetime.fromisoformat(start) if start
             else _add_months(end, -order.details["months"]))
    query = Customer.select().where(Customer.id == order.customer_id)
    customer = (query.for_update() if lock and is_postgres() else query).get()
    if customer.vip_until is None:
        return None
    shortened = customer.vip_until - (end - start)
    return {"from": customer.vip_until, "to": shortened if shortened > now else None}


def _iso(moment):
    return moment.isoformat() if moment else None


def review(order, customer_user, stars, words="", butler_stars=None):
    """The customer's review of the shop (and of the butler, when one served): 1–5 stars.
    After a rework the customer may review again; the new review replaces the old one."""
    stars = _stars(stars, "stars")
    butler_stars = _stars(butler_stars, "butler_stars") if butler_stars is not None else None
    with writing():
        words = text(words, "words", False)
        event = transition(order, "review", customer_user, note=words)
        if order.supplier_id:
            _review(order, order.supplier, stars, words)
        if order.butler_id and butler_stars is not None:
            _review(order, order.butler, butler_stars, words)
    return event


def _stars(value, field):
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 5:
        raise OrderInputError(field, _l("Stars: a whole number from 1 to 5."))
    return value


def _review(order, target, stars, words):
    kind = "butler" if isinstance(target, Butler) else "supplier"
    existing = Review.get_or_none(Review.order_no == order.order_no, Review.target_kind == kind)
    if existing is None:
        people.add_review(order.order_no, target, STARS_TO_RATING[stars], stars, words or "",
                          customer=order.customer)
        return
    Review.update(rating=STARS_TO_RATING[stars], stars=stars, text=words or "").where(
        Review.id == existing.id).execute()
    people.recompute_stars(target)


def verify_service_code(supplier_user, code):
    """The shop checks the customer's 消费码: only an open order of this shop matches. A car
    arriving (self-drive, or brought by the butler) is moved to `at_shop`. Wrong codes are
    audited and throttled per shop (all its staff together): past the limit, even a right code
    waits, so the 10^8 codes cannot be guessed at speed."""
    code = (code or "").strip() if isinstance(code, str) else ""
    if not (len(code) == 8 and code.isdigit()):
        raise OrderInputError("code", _l("Service code: 8 digits."))
    _service_code_guard(supplier_user)
    orgs = supplier_user.organization.ancestors_and_self_ids()
    order = Order.select().where(Order.service_code == code, Order.is_open == True,  # noqa: E712
                                 Order.supplier_org.in_(orgs)).first()
    if order is None:
        audit.record("verify_service_code", None, None, {"code_matched": False},
                     object_type="Order", object_id="", actor=supplier_user,
                     note=WRONG_SERVICE_CODE)
        raise OrderInputError("code", _l("Service code: no open order of your shop has this "
                                         "code."))
    if "arrive" in available_actions(order, supplier_user):
        advance(order, "arrive", supplier_user, note="service code verified")
    else:
        audit.record("verify_service_code", order, None, {"code_matched": True},
                     actor=supplier_user)
    return order


WRONG_SERVICE_CODE = "wrong service code"


def _service_code_guard(supplier_user):
    """Refuse (TooMany, audited) while the shop's wrong codes within the window reach the
    limit (参数设置 security.service_code_max_failures per service_code_window_minutes)."""
    limit = params.param("security.service_code_max_failures")
    window = dt.timedelta(minutes=params.param("security.service_code_window_minutes"))
    shop_staff = User.select(User.id).where(User.organization == supplier_user.organization_id)
    wrong = (AuditLog.select(AuditLog.at)
             .where(AuditLog.action == "verify_service_code", AuditLog.note == WRONG_SERVICE_CODE,
                    AuditLog.at >= utcnow() - window, AuditLog.actor.in_(shop_staff))
             .order_by(AuditLog.at.desc()).limit(limit))
    wrong = [row.at for row in wrong]
    if len(wrong) < limit:
        return
    wait = max(60, int((wrong[-1] + window - utcnow()).total_seconds()) + 1)
    audit.record("verify_service_code", None, None, {"code_matched": None},
                 object_type="Order", object_id="", actor=supplier_user,
                 note="refused: too many wrong service codes")
    raise TooMany(_l("Too many wrong service codes from your shop: try again in %(minutes)s "
                     "minutes.", minutes=(wait + 59) // 60), retry_after=wait)


SPECIAL_MOVES = {"grab", "assign", "refuse", "quote", "confirm_quote", "reject_quote",
                 "finish_repair", "pay", "settle_rework", "activate", "review", "cancel",
                 "publish", "post_progress", "confirm_cost_change", "reject_cost_change",
                 "request_rework", "complain", "refund"}


def plain_moves(role):
    """The moves `role` makes through `advance` anywhere in the table: what its app may send
    as an `action` (derived, so a move added to the table reaches the app by itself)."""
    return tuple(sorted({action for (_family, _state, action), (_to, roles)
                         in TRANSITIONS.items() if role in roles} - SPECIAL_MOVES))


def can_act(order, user, action):
    return action in available_actions(order, user)
