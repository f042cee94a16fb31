"""The order demo builds a consistent database: every order's history is a path through the
transition table ending in its status, amounts add up, dates run forward, and the calendar has
the weekly, seasonal and growth patterns the charts are meant to show."""
import collections
import datetime as dt
import random

import pytest
import testkit

from console.db import db, utcnow
from console.models import (
    COMPLAINT_STATUSES,
    REWORK_STATUSES,
    Complaint,
    Order,
    OrderCounter,
    OrderEvent,
    OrderLine,
    ProgressReport,
    Review,
    ReworkRequest,
)
from console.orders import demo as demo_orders
from console.orders.demo.paths import daily_counts, placed_times
from console.orders.states import FAMILY_OF, FINAL, INITIAL, TRANSITIONS

COUNT = 300


@pytest.fixture(scope="module")
def demo(backend, tmp_path_factory):
    """A private copy of the template with COUNT demo orders; the tests only read it."""
    with testkit.database_copy(backend, tmp_path_factory.mktemp("demo_orders")) as url:
        app = testkit.make_app(url)
        with db.connection_context(), app.app_context():
            messages = []
            made = demo_orders.generate(COUNT, seed=5, echo=messages.append)
            yield {"made": made, "messages": messages, "now": utcnow()}
        db.close()


def histories():
    events = collections.defaultdict(list)
    for event in OrderEvent.select().order_by(OrderEvent.order, OrderEvent.at, OrderEvent.id):
        events[event.order_id].append(event)
    return events


def test_the_demo_makes_the_orders_asked_for_and_reports_its_progress(demo):
    assert demo["made"] == COUNT == Order.select().count()
    assert f"{COUNT} orders" in demo["messages"][-1]


def test_replaying_each_orders_events_through_the_table_ends_in_its_status(demo):
    events = histories()
    for order in Order.select():
        family = FAMILY_OF[order.order_type]
        story = events[order.id]
        assert (story[0].action, story[0].from_status) == ("place", None)
        state = story[0].to_status
        assert state == str(INITIAL[family])
        for event in story[1:]:
            assert event.from_status == state, order.order_no
            to_state, roles = TRANSITIONS[(family, state, event.action)]
            assert event.to_status == to_state and event.actor_role in roles, \
                (order.order_no, event.action, event.actor_role)
            state = to_state
        assert state == order.status, order.order_no
        assert order.is_open == (state not in FINAL[family])
        assert (order.closed_at is not None) == (not order.is_open)


def test_the_mix_covers_every_order_type_and_open_and_finished_orders(demo):
    types = {o.order_type for o in Order.select(Order.order_type)}
    assert types == set(FAMILY_OF)
    assert Order.select().where(Order.is_open == True).exists()  # noqa: E712
    assert Order.select().where(Order.status == "cancelled").exists()


def test_lines_add_up_to_the_estimate_and_the_final_price(demo):
    sums = collections.defaultdict(int)
    for line in OrderLine.select():
        sums[(line.order_id, line.source)] += line.amount_fen
        assert line.amount_fen == line.qty * line.unit_fen * (-1 if line.kind == "discount"
                                                              else 1)
    quoted = {e.order_id for e in OrderEvent.select().where(OrderEvent.action == "quote")}
    assert quoted
    for order in Order.select():
        if (order.id, "estimate") in sums:
            assert sums[(order.id, "estimate")] == order.estimate_fen, order.order_no
        if order.id in quoted:
            assert sums[(order.id, "final")] == order.final_fen > 0, order.order_no


def test_a_payment_pays_exactly_what_was_due_and_each_event_records_the_money_it_moved(demo):
    events = histories()
    for order in Order.select():
        payments = [e for e in events[order.id] if e.action == "pay"]
        if not payments:
            assert order.paid_fen == 0
            continue
        price = order.final_fen if order.final_fen is not None else order.estimate_fen
        assert order.paid_fen == price + order.butler_fee_fen + order.delivery_fee_fen \
            - order.discount_fen
        assert payments[0].amounts["paid_fen"] == [0, order.paid_fen]
        assert payments[0].ref


def test_dates_run_forward_within_two_years_and_before_now(demo):
    events = histories()
    earliest = demo["now"] - dt.timedelta(days=demo_orders.DAYS + 1)
    for order in Order.select():
        times = [e.at for e in events[order.id]]
        assert times == sorted(times)
        assert times[0] == order.placed_at and earliest <= order.placed_at <= demo["now"]
        assert times[-1] <= demo["now"] and order.updated_at == times[-1]
        if order.paid_at:
            assert order.paid_at >= order.placed_at


def test_order_numbers_follow_the_placing_order_and_the_counters_continue_them(demo):
    orders = list(Order.select().order_by(Order.placed_at, Order.id))
    by_day = collections.defaultdict(list)
    for order in orders:
        by_day[order.order_no[1:9]].append(int(order.order_no[9:]))
    for day, numbers in by_day.items():
        assert numbers == list(range(1, len(numbers) + 1)), day
        assert OrderCounter.get_by_id(day).value == len(numbers)
    open_codes = [o.service_code for o in orders if o.is_open]
    assert len(open_codes) == len(set(open_codes))


def test_after_sales_rows_match_the_events(demo):
    events = collections.Counter(e.action for e in OrderEvent.select(OrderEvent.action))
    assert ProgressReport.select().count() == events["post_progress"]
    assert Complaint.select().count() == events["complain"]
    assert ReworkRequest.select().count() == events["request_rework"]
    assert {c.status for c in Complaint.select()} <= set(COMPLAINT_STATUSES)
    assert {r.status for r in ReworkRequest.select()} <= set(REWORK_STATUSES)
    reviewed = {e.order.order_no for e in OrderEvent.select().where(
        OrderEvent.action == "review")}
    assert reviewed == {r.order_no for r in Review.select()}  # no review cites another


def test_running_the_demo_again_adds_nothing(demo):
    messages = []
    demo_orders.demo_step(orders=50, seed=1, scale=1.0, echo=messages.append)
    assert Order.select().count() == COUNT and "already" in messages[0]


def test_today_gets_only_the_hours_gone_by():
    now = dt.datetime(2026, 3, 3, 2, 30)  # 10:30 in Shanghai
    times = placed_times(random.Random(1), dt.date(2026, 3, 3), "detailing", 500, until=now)
    assert len(times) == 500 and max(times) <= now
    assert min(times) >= dt.datetime(2026, 3, 2, 16, 0)
    plan = daily_counts(10_000, dt.date(2026, 2, 2), 30, ["detailing"], random.Random(2),
                        last_share=0.1)
    assert plan[-1][1]["detailing"] < 0.3 * plan[-2][1]["detailing"]


def test_the_calendar_has_busy_weekends_seasons_and_growth():
    days = 728
    first = dt.date(2024, 11, 25)  # a Monday
    plan = dict(daily_counts(200_000, first, days, ["detailing", "maintenance",
                                                    "designated_driving"], random.Random(3)))
    assert sum(sum(per.values()) for per in plan.values()) == 200_000

    def mean(kind, days_of):
        picked = [plan.get(d, {}).get(kind, 0) for d in days_of]
        return sum(picked) / len(picked)
    all_days = [first + dt.timedelta(days=i) for i in range(days)]
    saturdays = [d for d in all_days if d.weekday() == 5]
    wednesdays = [d for d in all_days if d.weekday() == 2]
    assert mean("detailing", saturdays) > 1.5 * mean("detailing", wednesdays)
    assert mean("designated_driving", saturdays) > 1.3 * mean("designated_driving", wednesdays)
    def month(year, number):
        return [d for d in all_days if (d.year, d.month) == (year, number)]
    assert mean("maintenance", month(2026, 4)) > 1.1 * mean("maintenance", month(2026, 7))
    assert mean("maintenance", month(2025, 10)) > 1.1 * mean("maintenance", month(2025, 8))
    assert mean("maintenance", all_days[-91:]) > 1.5 * mean("maintenance", all_days[:91])
