"""The dispatch board's operations: the waiting orders of a dispatcher's data scope, oldest
first, and assigning from the board — one order, or a batch proposal pair by pair. Each
assignment is `console.orders.assign` on the order as it was still waiting, so a butler's grab
a moment earlier wins and the dispatcher is told who took it; nothing is overwritten."""
import datetime as dt

from flask_babel import lazy_gettext as _l

from console import people
from console.common.clock import local_time
from console.db import utcnow
from console.dispatch.sweep import on_board
from console.errors import ConflictError, InputError, NotFound
from console.models import Butler, Order, OrderEvent
from console.orders import OrderStateError, assign
from console.orders.states import HALL_STATES, ROLE_LABELS
from console.system import rbac

URGENCIES = ("board", "due_soon", "waiting")  # timed out / grab window ends soon / all
DUE_SOON = dt.timedelta(minutes=5)
BOARD_LIMIT = 200


def scoped(query, user):
    """The data scope of `user`, widened to the city their team works in: a dispatcher of the
    Shanghai dispatch team handles Shanghai's orders (as the order engine lets them act on
    them)."""
    condition = rbac.scope_condition(Order, user)
    city = people.city_of(user.organization) if user.organization_id else None
    if condition is not None and city is not None:
        condition = condition | (Order.city == city.id)
    return query if condition is None else query.where(condition)


def waiting():
    return Order.select().where(Order.status.in_(sorted(HALL_STATES)), Order.butler.is_null())


def waiting_orders(user, *, city=None, order_type=None, urgency="board", now=None,
                   limit=BOARD_LIMIT):
    """The waiting orders `user` may see, oldest first: on the board (timed out), due within
    five minutes, or every task still in the hall."""
    now = now or utcnow()
    query = on_board() if urgency == "board" else waiting()
    if urgency == "due_soon":
        query = query.where(Order.grab_deadline > now, Order.grab_deadline <= now + DUE_SOON)
    if city:
        query = query.where(Order.city == city)
    if order_type:
        query = query.where(Order.order_type == order_type)
    return list(scoped(query, user).order_by(Order.placed_at, Order.id).limit(limit))


def board_count(user):
    """How many orders wait on `user`'s board (the menu badge)."""
    return scoped(on_board(), user).count()


def clock(order, now=None):
    """Seconds waited since placing and seconds left in the grab window (negative: overdue)."""
    now = now or utcnow()
    left = (order.grab_deadline - now).total_seconds() if order.grab_deadline else None
    return int((now - order.placed_at).total_seconds()), None if left is None else int(left)


def find_order(order_id, user):
    order = scoped(Order.select().where(Order.id == order_id), user).first()
    if order is None:
        raise NotFound(_l("No order %(id)s among the orders you can see.", id=order_id))
    return order


def find_butler(butler_id):
    butler = Butler.get_or_none(Butler.id == butler_id) if isinstance(butler_id, int) else None
    if butler is None:
        raise InputError("butler", _l("Butler: choose a butler from the list."))
    return butler


def taken(order):
    """The conflict a dispatcher sees when a butler grabbed (or someone assigned) the order
    first: who holds it now, how and when."""
    event = (OrderEvent.select().where(OrderEvent.order == order.id,
                                       OrderEvent.action.in_(["grab", "assign"]))
             .order_by(OrderEvent.at.desc(), OrderEvent.id.desc()).first())
    holder = Butler.get_or_none(Butler.id == order.butler_id) if order.butler_id else None
    if holder is None or event is None:
        return ConflictError(_l("Order %(order_no)s is no longer waiting for a butler.",
                                order_no=order.order_no), "taken")
    how = (_l("grabbed it") if event.action == "grab" else
           _l("was assigned it by %(who)s (%(role)s)", who=event.actor.full_name
              if event.actor else "—", role=ROLE_LABELS.get(event.actor_role, "")))
    return ConflictError(_l("Order %(order_no)s was taken a moment earlier: %(butler)s "
                            "%(how)s at %(at)s. Nothing was changed.", order_no=order.order_no,
                            butler=str(holder), how=how, at=local_time(event.at, True)),
                         "taken")


def assign_from_board(order_id, butler_id, dispatcher, note="", now=None):
    """派单 from the board: the order must still be waiting; a grab or another dispatcher's
    assignment that got there first is reported as `taken`, never overwritten."""
    order = find_order(order_id, dispatcher)
    butler = find_butler(butler_id)
    if order.status not in HALL_STATES or order.butler_id is not None:
        raise taken(order)
    reason = (note or "").strip() or str(_l("Assigned from the dispatch board"))
    try:
        return assign(order, butler, dispatcher, reason, now=now)
    except OrderStateError as refused:
        fresh = Order.get_by_id(order.id)
        if fresh.butler_id is not None and refused.code == "state_changed":
            raise taken(fresh) from None
        raise


def apply_batch(pairs, dispatcher, note=""):
    """Assign each (order id, butler id) on its own: [(order id, butler id, None or the
    error)]. A pair a grab won first fails alone; the others go ahead."""
    results = []
    for order_id, butler_id in pairs:
        try:
            assign_from_board(order_id, butler_id, dispatcher,
                              note or str(_l("Batch assignment: least total pickup distance")))
        except (ConflictError, InputError, NotFound) as refused:
            results.append((order_id, butler_id, refused))
        else:
            results.append((order_id, butler_id, None))
    return results
