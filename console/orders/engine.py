"""The order engine: `transition()` applies the one table of `console.orders.states` — the
only code that assigns `Order.status` — plus who may act, order numbers and service codes.
The operations built on it are in `console.orders.operations`; the package `console.orders`
names the public ones of both.

Every refused request raises `OrderStateError` (a move not allowed now, by this user, or
overtaken by a concurrent move: code + message, API 409) or `OrderInputError` (bad input:
field + message, API 422), and changes nothing."""
import secrets

from flask import current_app, has_app_context
from flask_babel import lazy_gettext as _l
from peewee import IntegrityError

from console import people
from console.common.clock import local_day
from console.common.tx import writing
from console.db import db, is_postgres, utcnow
from console.errors import ConflictError, DomainError, InputError, say
from console.models import (
    Butler,
    Order,
    OrderCounter,
    OrderEvent,
    ProgressReport,
    ReworkRequest,
    Role,
    UserRoles,
)
from console.orders.states import (  # noqa: F401  (the table is part of this module's API)
    ACTION_LABELS,
    BUTLER,
    CUSTOMER,
    DISPATCHER,
    FAMILY_OF,
    FINAL,
    HALL_STATES,
    INITIAL,
    ROLE_LABELS,
    SERVICE,
    STATE_LABELS,
    SUPPLIER,
    SYSTEM,
    TRANSITIONS,
)
from console.orders.types import ORDER_TYPE_LETTERS
from console.system import audit, notify

MONEY_FIELDS = ("estimate_fen", "final_fen", "paid_fen", "discount_fen", "butler_fee_fen",
                "delivery_fee_fen", "bonus_fen")
# console role code -> the order roles it may act in (staff act within their city)
STAFF_ROLES = {"dispatcher": {DISPATCHER}, "customer_service": {SERVICE},
               "platform_admin": {DISPATCHER, SERVICE}, "super_admin": {DISPATCHER, SERVICE}}
ROLE_PREFERENCE = (CUSTOMER, BUTLER, SUPPLIER, DISPATCHER, SERVICE, SYSTEM)


# ---- errors ------------------------------------------------------------------------------
class OrderError(DomainError):
    """Any refused order operation (state or input)."""


class OrderStateError(OrderError, ConflictError):
    """A move refused: not in the table from this state, not this user's to make, or another
    move got there first. `code` is stable for the API; nothing was changed."""

    def __init__(self, code, message):
        ConflictError.__init__(self, message, code)


class OrderInputError(OrderError, InputError):
    """Bad input to an order operation; `field` names the culprit."""


def _illegal(order, action):
    return OrderStateError("illegal_move", _l(
        "Order %(order_no)s is %(state)s: “%(action)s” is not possible now.",
        order_no=order.order_no, state=STATE_LABELS.get(order.status, order.status),
        action=ACTION_LABELS.get(action, action)))


def _not_yours(order, action):
    return OrderStateError("not_allowed", _l(
        "Order %(order_no)s is %(state)s: you may not “%(action)s” it.",
        order_no=order.order_no, state=STATE_LABELS.get(order.status, order.status),
        action=ACTION_LABELS.get(action, action)))


def _overtaken(order, action, current):
    return OrderStateError("state_changed", _l(
        "Order %(order_no)s changed meanwhile and is now %(state)s: “%(action)s” was not "
        "applied. Reload and try again.", order_no=order.order_no,
        state=STATE_LABELS.get(current, current), action=ACTION_LABELS.get(action, action)))


def fen(value, field, minimum=0):
    """Money in integer fen: a float, a string or a bool is refused, never rounded."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise OrderInputError(field, _l("%(field)s: money is a whole number of fen, not "
                                        "%(value)r.", field=field, value=value))
    if minimum is not None and value < minimum:
        raise OrderInputError(field, _l("%(field)s: must be at least %(minimum)s fen.",
                                        field=field, minimum=minimum))
    return value


def plain_text(value, field, required=True, limit=2000):
    value = (value or "").strip() if isinstance(value, str) or value is None else None
    if value is None:
        raise OrderInputError(field, _l("%(field)s: must be text.", field=field))
    if required and not value:
        raise OrderInputError(field, _l("%(field)s: required.", field=field))
    return value[:limit]


# ---- who acts --------------------------------------------------------------------------
def role_codes(user):
    return {r.name for r in Role.select(Role.name).join(UserRoles)
            .where(UserRoles.user == user.id)}


def butler_of(user):
    return Butler.get_or_none(Butler.user == user.id) if user is not None else None


def _covers_city(user, city_id):
    city = people.city_of(user.organization)
    return city is None or city.id == city_id


def order_roles(order, user):
    """The roles `user` holds for this order: its customer, its butler (or any butler while
    it waits in the task hall), its supplier's staff, staff of its city. None is the system."""
    if user is None:
        return {SYSTEM}
    codes, roles = role_codes(user), set()
    if "customer" in codes and order.customer_user_id == user.id:
        roles.add(CUSTOMER)
    if "butler" in codes:
        butler = butler_of(user)
        if butler and (order.butler_id == butler.id or
                       (order.butler_id is None and order.status in HALL_STATES)):
            roles.add(BUTLER)
    if "supplier_admin" in codes and order.supplier_org_id and \
            order.supplier_org_id in user.organization.ancestors_and_self_ids():
        roles.add(SUPPLIER)
    staff = set().union(*(STAFF_ROLES.get(code, set()) for code in codes))
    if staff and _covers_city(user, order.city_id):
        roles |= staff
    return roles


# ---- guards: conditions beyond the state, checked with the move --------------------------
def _pending_cost_change(order):
    return ProgressReport.select().where(ProgressReport.order == order.id,
                                         ProgressReport.cost_change_status == "pending").exists()


def _open_rework(order):
    return ReworkRequest.select().where(ReworkRequest.order == order.id,
                                        ReworkRequest.status == "open").exists()


def _guard(order, action):
    """A message when `action` is in the table for the state but not possible for this order;
    None when it may go ahead."""
    if action == "arrive" and order.status == "placed" and order.needs_butler:
        return _l("The butler brings this car: it arrives after the pick-up.")
    if action == "finish_repair" and _pending_cost_change(order):
        return _l("A cost change waits for the customer's decision.")
    if action in ("confirm_cost_change", "reject_cost_change") and \
            not _pending_cost_change(order):
        return _l("No cost change waits for a decision.")
    if action == "settle_rework" and (order.amount_due_fen > 0 or not _open_rework(order)):
        return _l("Only a rework with nothing left to pay is settled without payment.")
    return None


def available_actions(order, user):
    """The moves `user` may make on `order` now, in table order (detail page buttons, API)."""
    roles = order_roles(order, user)
    family = FAMILY_OF[order.order_type]
    return [action for (fam, state, action), (_to, allowed) in TRANSITIONS.items()
            if fam == family and state == order.status and allowed & roles
            and _guard(order, action) is None]


# ---- the one place that moves an order ---------------------------------------------------
def _locked(order_id):
    query = Order.select().where(Order.id == order_id)
    return (query.for_update() if is_postgres() else query).get()


def _parties(order):
    return order.customer_user_id, order.butler_id, order.supplier_org_id, order.city_id


def _amount_changes(before, after):
    changed = {f: [getattr(before, f), after[f]] for f in MONEY_FIELDS
               if f in after and after[f] != getattr(before, f)}
    return changed or None


def transition(order, action, actor, *, role=None, note="", changes=None, ref="", now=None):
    """Apply one move of the table to `order` as `actor` (a User; None is the system).

    `changes` (a dict, or a function of the locked current row returning one) are written
    with the status by one conditional UPDATE … WHERE id = ? AND status = <from>, together
    with the order event, the audit row and the notifications, in one transaction. Returns the
    OrderEvent; `order` is refreshed in place. Raises OrderStateError and changes nothing when
    the move is not in the table, not this actor's, blocked by a guard, or overtaken."""
    family = FAMILY_OF[order.order_type]
    move = TRANSITIONS.get((family, order.status, action))
    if move is None:
        raise _illegal(order, action)
    to_state, allowed = move
    held = order_roles(order, actor) & allowed
    if role is not None:
        held &= {role}
    if not held:
        raise _not_yours(order, action)
    acting = next(r for r in ROLE_PREFERENCE if r in held)
    now = now or utcnow()
    with writing():
        current = _locked(order.id)
        if current.status != order.status:
            raise _overtaken(order, action, current.status)
        if _parties(current) != _parties(order):  # reassigned meanwhile: ask again
            held = order_roles(current, actor) & held
            if not held:
                raise _not_yours(current, action)
            acting = next(r for r in ROLE_PREFERENCE if r in held)
        blocked = _guard(current, action)
        if blocked is not None:
            raise OrderStateError("not_possible", blocked)
        values = dict((changes(current) if callable(changes) else changes) or {})
        _give_butler(current, action, actor, values)
        values.update(status=to_state, updated_at=now)
        if to_state in FINAL[family] and current.is_open:
            values.update(is_open=False, closed_at=now)
        moved = Order.update(values).where(Order.id == order.id,
                                           Order.status == current.status).execute()
        if not moved:  # unreachable under the lock; kept so the guarantee is local
            raise _overtaken(order, action, current.status)
        event = OrderEvent.create(order=order.id, at=now, actor=actor.id if actor else None,
                                  actor_role=acting, action=action,
                                  from_status=current.status, to_status=to_state,
                                  note=note or "", amounts=_amount_changes(current, values),
                                  ref=ref or "")
        fresh = Order.get_by_id(order.id)
        audit.record(action, fresh, _audit_view(current), _audit_view(fresh), note=note or "",
                     actor=actor)
        _notify(fresh, event, actor)
    order.__data__.update(fresh.__data__)
    order._dirty.clear()
    return event


def _give_butler(current, action, actor, values):
    """A grab gives the order to the grabbing butler; an assignment must name one."""
    if action == "grab":
        values.setdefault("butler", butler_of(actor).id)
    if action == "assign" and not (values.get("butler") or current.butler_id):
        raise OrderInputError("butler", _l("Butler: choose the butler to assign."))


def _audit_view(order):
    return {"status": order.status, **{f: getattr(order, f) for f in MONEY_FIELDS},
            "butler": order.butler_id}


def _recipient_locale(user):
    if user.locale:
        return user.locale
    return current_app.config["CONSOLE_LOCALE"] if has_app_context() else "en"


def _notify(order, event, actor):
    """Queue an in-console notice for the customer (and a newly given butler), in their
    language; delivered after commit by the outbox job."""
    users = [order.customer_user]
    if event.action in ("assign", "grab") and order.butler_id:
        users.append(order.butler.user)
    for user in users:
        if actor is not None and user.id == actor.id:
            continue
        body = say(_l("Order %(order_no)s: %(action)s — now %(state)s.",
                      order_no=order.order_no, action=ACTION_LABELS.get(event.action),
                      state=STATE_LABELS.get(order.status)), _recipient_locale(user))
        notify.enqueue("console", user.email, body, subject=order.order_no)


# ---- numbers and codes -------------------------------------------------------------------
def next_order_no(order_type, now=None):
    """Type letter + local date + a per-day sequence: M20261124000123. The counter row is
    bumped by one atomic upsert, so concurrent placements never share a number."""
    day = local_day(now or utcnow())
    cursor = (OrderCounter.insert(day=day, value=1)
              .on_conflict(conflict_target=[OrderCounter.day],
                           update={OrderCounter.value: OrderCounter.value + 1})
              .returning(OrderCounter.value).tuples().execute())
    sequence = list(cursor)[0][0]
    return f"{ORDER_TYPE_LETTERS[order_type]}{day}{sequence:06d}"


def new_service_code():
    """消费码: 8 random digits from the OS's CSPRNG (unguessable; uniqueness among open
    orders is the partial unique index, retried on a clash)."""
    return f"{secrets.randbelow(10 ** 8):08d}"


def insert_order(values, attempts=6):
    """Insert an order with a fresh service code, drawing again if an open order holds it
    (a code given in `values` is used as it is)."""
    if "service_code" in values:
        with db.atomic():
            return Order.create(**values)
    for _attempt in range(attempts):
        try:
            with db.atomic():
                return Order.create(service_code=new_service_code(), **values)
        except IntegrityError:
            if Order.select().where(Order.order_no == values["order_no"]).exists():
                raise
    raise OrderStateError("no_service_code", _l("Could not draw a free service code."))


# ---- reading an order's story ------------------------------------------------------------
def timeline(order):
    return list(OrderEvent.select().where(OrderEvent.order == order.id)
                .order_by(OrderEvent.at, OrderEvent.id))


def initial_state(order_type):
    return str(INITIAL[FAMILY_OF[order_type]])
