"""The timeout sweep (job `timeout_sweep`): a task of the task hall not grabbed within its grab
window moves to the dispatch board — the `time_out` move of the transition table (the task stays
grabbable), the timeout bonus of the pricing rules, and an alert to the dispatchers of its city
through the outbox.

Exactly once: each batch is one transaction in which every order is locked and checked again
("still waiting, deadline passed, no time_out since the deadline") before it moves, and the
alerts are queued in that same transaction. A crash between batches (or inside one) leaves
committed batches done and the rest for the next run: nothing lost, nothing repeated. A lease
keeps a second sweep from even starting while one runs."""
import uuid

from flask_babel import lazy_gettext as _l
from peewee import fn

from console import people
from console.catalogue import pricing
from console.common.tx import writing
from console.db import is_postgres, utcnow
from console.errors import say
from console.models import JobLease, Order, OrderEvent, PricingRuleSet, Role, User, UserRoles
from console.orders.engine import transition
from console.orders.states import HALL_STATES
from console.system import notify

BATCH_SIZE = 200
LEASE = "timeout_sweep"
LEASE_SECONDS = 120
SHOWN_IN_ALERT = 5  # order numbers named in one alert; the rest are counted


def _waiting():
    """Tasks in the hall that nobody holds."""
    return Order.select().where(Order.status.in_(sorted(HALL_STATES)), Order.butler.is_null())


def _timed_out_since(since):
    return OrderEvent.select(OrderEvent.id).where(
        OrderEvent.order == Order.id, OrderEvent.action == "time_out", OrderEvent.at >= since)


def overdue(now, limit=BATCH_SIZE):
    """Waiting tasks whose grab deadline has passed and that have not timed out since then,
    the longest overdue first."""
    return (_waiting().where(Order.grab_deadline <= now,
                             ~fn.EXISTS(_timed_out_since(Order.grab_deadline)))
            .order_by(Order.grab_deadline, Order.id).limit(limit))


def on_board():
    """Waiting tasks that have timed out at least once: the dispatch board's orders (a task
    refused after an assignment comes back here)."""
    ever = OrderEvent.select(OrderEvent.id).where(OrderEvent.order == Order.id,
                                                  OrderEvent.action == "time_out")
    return _waiting().where(fn.EXISTS(ever))


def sweep_timeouts(now=None, batch_size=BATCH_SIZE):
    """Job: move every task nobody grabbed in time to the dispatch board, with its timeout
    bonus, and alert the dispatchers of its city. Returns {"timed_out": n} (or "skipped"
    when another sweep holds the lease)."""
    now = now or utcnow()
    holder = uuid.uuid4().hex
    if not _lease(holder, now):
        return {"timed_out": 0, "skipped": "another sweep is running"}
    moved = 0
    try:
        while True:
            seen, done = sweep_batch(now, batch_size)
            moved += done
            if seen < batch_size or not done:  # the last batch, or only others' work left
                return {"timed_out": moved}
            _lease(holder, utcnow())
    finally:
        JobLease.update(holder="", expires_at=utcnow()).where(
            JobLease.name == LEASE, JobLease.holder == holder).execute()


def _lease(holder, now):
    from console.jobs import acquire_lease  # jobs imports this package: import on use

    return acquire_lease(LEASE, holder, LEASE_SECONDS, now)


def sweep_batch(now, batch_size=BATCH_SIZE):
    """One transaction: time out up to `batch_size` overdue tasks; (tasks seen, tasks moved).
    Rows a concurrent sweep already moved are skipped once their lock is granted."""
    rules = PricingRuleSet.rules("refusal_bonus")
    with writing():
        ids = [row.id for row in overdue(now, batch_size).select(Order.id)]
        moved = [order for order in (_time_out(order_id, now, rules) for order_id in ids)
                 if order is not None]
        _alert(moved)
    return len(ids), len(moved)


def _locked(order_id):
    query = Order.select().where(Order.id == order_id)
    return (query.for_update() if is_postgres() else query).get()


def _time_out(order_id, now, rules):
    order = _locked(order_id)
    if order.status not in HALL_STATES or order.butler_id is not None or \
            order.grab_deadline is None or order.grab_deadline > now or \
            OrderEvent.select().where(OrderEvent.order == order.id,
                                      OrderEvent.action == "time_out",
                                      OrderEvent.at >= order.grab_deadline).exists():
        return None  # grabbed, assigned or swept meanwhile
    timeouts = OrderEvent.select().where(OrderEvent.order == order.id,
                                         OrderEvent.action == "time_out").count() + 1
    transition(order, "time_out", None, now=now, changes=_bonus(order, timeouts, now, rules))
    return order


def _bonus(order, timeouts, now, rules):
    """The bonus for the refusals and timeouts so far (never lowered); no rule in force
    leaves it as it is."""
    try:
        bonus = pricing.refusal_bonus(order.refusal_count + timeouts, rules, now)
    except pricing.PricingError:
        return {}
    return {"bonus_fen": max(order.bonus_fen, bonus.amount),
            "pricing_rule_versions": {**order.pricing_rule_versions,
                                      "refusal_bonus": bonus.rule_id}}


def city_dispatchers(city_id):
    """Active dispatchers whose organization lies in the city (or above every city)."""
    users = (User.select().join(UserRoles).join(Role)
             .where(Role.name == "dispatcher", User.active == True))  # noqa: E712
    result = []
    for user in users:
        city = people.city_of(user.organization)
        if city is None or city.id == city_id:
            result.append(user)
    return result


def _alert(moved):
    """One console message per dispatcher and city for the orders just moved, in the
    dispatcher's language (queued in the sweep's transaction, delivered after commit)."""
    by_city = {}
    for order in moved:
        by_city.setdefault(order.city_id, []).append(order.order_no)
    for city_id, numbers in by_city.items():
        shown = ", ".join(numbers[:SHOWN_IN_ALERT])
        more = len(numbers) - SHOWN_IN_ALERT
        text = (_l("%(count)s orders nobody grabbed in time are on the dispatch board: "
                   "%(orders)s and %(more)s more.", count=len(numbers), orders=shown, more=more)
                if more > 0 else
                _l("%(count)s orders nobody grabbed in time are on the dispatch board: "
                   "%(orders)s.", count=len(numbers), orders=shown))
        for user in city_dispatchers(city_id):
            locale = user.locale or "zh_Hans_CN"
            notify.enqueue("console", user.email, say(text, locale),
                           subject=say(_l("Dispatch board"), locale))


JOBS = {"timeout_sweep": (sweep_timeouts, 30)}  # name: (function, every N seconds)
