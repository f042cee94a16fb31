"""`flask --app run demo --orders N`: N orders over the last two years with consistent histories.

Each order's events are a walk over the engine's transition table (`paths`), its
money follows the same rules as `console.orders` (estimate lines add up to the estimate, quote
lines to the final price, a payment pays exactly what is due), and the after-sales rows
(progress reports, complaints, rework requests, reviews, follow-up visits) match the events.

Rows go in as raw `executemany` batches inside transactions, bypassing the per-row ORM: one row
is bound per step, so SQLite's bound-variable limit never applies, and PostgreSQL gets
`execute_values` pages. Large runs drop the order tables' secondary indexes while loading and
rebuild them afterwards (one sort instead of a million B-tree inserts), then ANALYZE."""
import datetime as dt
import random
import time

from peewee import EXCLUDED, fn

from console import people
from console.db import db, is_postgres, utcnow
from console.models import (
    Butler,
    Complaint,
    FollowUpVisit,
    Order,
    OrderCounter,
    OrderEvent,
    OrderLine,
    ProgressReport,
    Review,
    ReworkRequest,
    Supplier,
)
from console.orders.demo.builder import ORDER_FIELDS, OrderBuilder
from console.orders.demo.paths import TZ_OFFSET, daily_counts, placed_times
from console.orders.demo.world import load_world
from console.orders.demo.writer import BulkWriter, rebuilt_indexes

DAYS = 730
BIG_RUN = 50_000  # from this many orders on, rebuild indexes instead of maintaining them


def demo_step(orders, seed, scale, echo):
    """The order area's share of `flask --app run demo`: `--orders N` demo orders."""
    if orders <= 0:
        return
    if Order.select().exists():
        echo("orders: demo orders already present")
        return
    generate(orders, seed=seed, echo=echo)


def generate(total, seed=1, now=None, echo=print, days=DAYS):
    """Build `total` orders placed over the `days` before `now`; returns the count made."""
    started = time.monotonic()
    world = load_world()
    if not world.customers:
        echo("orders: no customers yet (run the people demo first); no orders made")
        return 0
    first_id = (Order.select(Order.id).order_by(Order.id.desc()).scalar() or 0) + 1
    builder = OrderBuilder(world, random.Random(seed), now or utcnow(), first_id)
    local_now = builder.now + TZ_OFFSET
    last_day = local_now.date()
    first_day = last_day - dt.timedelta(days=days - 1)
    today_share = (local_now - dt.datetime.combine(last_day, dt.time())) / dt.timedelta(days=1)
    types = sorted({t for ts in world.types_by_city.values() for t in ts})
    plan = daily_counts(total, first_day, days, types, builder.rng, last_share=today_share)
    writer = BulkWriter(WRITES, big=total >= BIG_RUN)
    with rebuilt_indexes([Order, OrderEvent, OrderLine], enabled=total >= BIG_RUN, echo=echo):
        made = _build_all(builder, plan, writer, total, echo, started)
    _finish(builder, echo)
    echo(f"orders: {made:,} orders, {builder.event_count:,} events, {builder.line_count:,} "
         f"lines in {time.monotonic() - started:.1f} s")
    return made


def _build_all(builder, plan, writer, total, echo, started):
    made, step = 0, max(1000, total // 20)
    next_report = step
    with writer:
        for day, per_type in plan:
            sequence = 0
            placed = [(at, order_type) for order_type, count in per_type.items()
                      for at in placed_times(builder.rng, day, order_type, count,
                                             until=builder.now)]
            placed.sort()
            for at, order_type in placed:
                sequence += 1
                builder.build(order_type, at, day, sequence, writer)
                made += 1
            builder.counters[day.strftime("%Y%m%d")] = sequence
            if made >= next_report:
                rate = made / max(0.001, time.monotonic() - started)
                echo(f"orders: {made:,}/{total:,} ({100 * made // total}%), {rate:,.0f}/s")
                next_report += step
    return made


def _finish(builder, echo):
    with db.atomic():
        rows = [{"day": day, "value": value} for day, value in builder.counters.items()]
        for start in range(0, len(rows), 500):
            OrderCounter.insert_many(rows[start:start + 500]).on_conflict(
                conflict_target=[OrderCounter.day],
                update={OrderCounter.value: EXCLUDED.value}).execute()
        if is_postgres():  # the ids were given explicitly: move the sequence past them
            table = Order._meta.table_name
            db.execute_sql(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                           f"(SELECT MAX(id) FROM {table}))")
        for model, ids in ((Supplier, builder.reviewed_suppliers),
                           (Butler, builder.reviewed_butlers)):
            for target in model.select().where(model.id.in_(sorted(ids))):
                people.recompute_stars(target)
        _order_counts()
    echo("orders: analyzing tables for the query planner")
    if is_postgres():
        db.execute_sql("ANALYZE")
    else:
        db.execute_sql("PRAGMA analysis_limit=2000")
        db.execute_sql("ANALYZE")


def _order_counts():
    """Each butler's and supplier's order count from the orders that exist (cancelled ones
    left out), as their pages show it."""
    for model, field, column in ((Butler, Order.butler, "orders_served"),
                                 (Supplier, Order.supplier, "orders_taken")):
        counts = (Order.select(field, fn.COUNT(Order.id))
                  .where(field.is_null(False), Order.status != "cancelled")
                  .group_by(field).tuples())
        for target_id, count in counts:
            model.update(**{column: count}).where(model.id == target_id).execute()


# table -> the columns the builder fills, in tuple order
WRITES = {
    "order": (Order, list(ORDER_FIELDS)),
    "event": (OrderEvent, ["order", "at", "actor", "actor_role", "action",
                                   "from_status", "to_status", "note", "amounts", "ref"]),
    "line": (OrderLine, ["order", "kind", "name", "qty", "unit_fen", "amount_fen",
                                 "source", "service_item", "progress"]),
    "progress": (ProgressReport, ["order", "at", "author", "text", "photos",
                                          "cost_change_fen", "cost_change_status",
                                          "decided_at", "decided_by"]),
    "complaint": (Complaint, ["order", "city", "by", "text", "status", "handler",
                                      "resolution", "created_at", "resolved_at"]),
    "rework": (ReworkRequest, ["order", "by", "reason", "status", "created_at",
                                       "done_at"]),
    "review": (Review, ["order_no", "target_kind", "supplier", "butler", "customer",
                                "organization", "rating", "stars", "text", "created_at"]),
    "follow_up": (FollowUpVisit, ["order", "by", "city", "at", "satisfaction", "note"]),
}
