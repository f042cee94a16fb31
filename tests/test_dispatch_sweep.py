"""The timeout sweep: a task nobody grabbed in time moves to the dispatch board once — with its
time_out event, the timeout bonus and one alert per dispatcher of its city — and a crash between
(or inside) batches loses and repeats nothing."""
import datetime as dt

import pytest
from order_factories import World, reload

from console import dispatch, jobs, orders
from console.db import utcnow
from console.dispatch import sweep
from console.models import Order, OrderEvent, Outbox


@pytest.fixture
def w(app):
    return World.build()


def overdue_task(w, minutes=1, order_type="towing", **fields):
    return w.order(order_type, status="requested" if order_type != "maintenance"
                   else "awaiting_grab",
                   grab_deadline=utcnow() - dt.timedelta(minutes=minutes), **fields)


def time_outs(order):
    return OrderEvent.select().where(OrderEvent.order == order.id,
                                     OrderEvent.action == "time_out").count()


def alerts(user):
    return list(Outbox.select().where(Outbox.recipient == user.email,
                                      Outbox.subject.in_(["Dispatch board", "调度看板"])))


def test_an_overdue_task_moves_to_the_board_with_the_bonus_and_an_alert_once(w):
    late = overdue_task(w)
    waiting = w.order("towing", status="requested")  # deadline in 10 minutes
    assert jobs.run_job("timeout_sweep") == {"timed_out": 1}
    order = reload(late)
    assert order.status == "requested" and order.bonus_fen == 500  # ¥5 per timeout
    assert "refusal_bonus" in order.pricing_rule_versions
    event = orders.timeline(order)[-1]
    assert (event.action, event.actor_role, event.from_status, event.to_status) == \
        ("time_out", "system", "requested", "requested")
    assert event.amounts == {"bonus_fen": [0, 500]}
    assert [o.id for o in dispatch.on_board()] == [late.id]
    assert reload(waiting).bonus_fen == 0
    [alert] = alerts(w.dispatcher)
    assert late.order_no in alert.body
    assert alerts(w.other_dispatcher) == []  # Beijing's dispatcher is not told about Shanghai
    assert jobs.run_job("timeout_sweep") == {"timed_out": 0}  # idempotent
    assert time_outs(late) == 1 and len(alerts(w.dispatcher)) == 1


def test_the_bonus_counts_refusals_and_timeouts_and_a_grabbed_task_is_left_alone(w):
    refused_twice = overdue_task(w, refusal_count=2, bonus_fen=1000)
    grabbed = overdue_task(w)
    orders.grab(grabbed, w.butler)
    sweep.sweep_timeouts()
    assert reload(refused_twice).bonus_fen == 1500
    assert time_outs(grabbed) == 0 and reload(grabbed).status == "assigned"


def test_a_task_refused_after_its_timeout_times_out_again_after_its_new_window(w):
    order = overdue_task(w, order_type="maintenance")
    sweep.sweep_timeouts()
    orders.assign(reload(order), w.butler, w.dispatcher, "就近")
    orders.refuse(reload(order), w.butler.user, "车坏了")
    assert [o.id for o in dispatch.on_board()] == [order.id]  # back on the board
    assert sweep.sweep_timeouts() == {"timed_out": 0}  # its new window runs
    later = reload(order).grab_deadline + dt.timedelta(seconds=1)
    assert sweep.sweep_timeouts(now=later) == {"timed_out": 1}
    assert time_outs(order) == 2
    assert reload(order).bonus_fen == 1500  # 1 refusal + 2 timeouts, ¥5 each


def test_a_crash_between_batches_loses_and_repeats_nothing(w, monkeypatch):
    tasks = [overdue_task(w, minutes=10 - i) for i in range(5)]
    real, calls = sweep.sweep_batch, []

    def crash_on_second(now, batch_size):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("killed mid-sweep")
        return real(now, batch_size)
    monkeypatch.setattr(sweep, "sweep_batch", crash_on_second)
    with pytest.raises(RuntimeError):
        sweep.sweep_timeouts(batch_size=2)
    assert [time_outs(t) for t in tasks] == [1, 1, 0, 0, 0]  # the first batch committed
    monkeypatch.setattr(sweep, "sweep_batch", real)
    assert sweep.sweep_timeouts(batch_size=2) == {"timed_out": 3}  # the lease was released
    assert [time_outs(t) for t in tasks] == [1, 1, 1, 1, 1]
    assert [reload(t).bonus_fen for t in tasks] == [500] * 5
    assert len(alerts(w.dispatcher)) == 3  # one per committed batch: 2 + 2 + 1 orders


def test_a_crash_inside_a_batch_undoes_the_whole_batch(w, monkeypatch):
    tasks = [overdue_task(w, minutes=10 - i) for i in range(3)]
    real, seen = sweep._time_out, []

    def crash_on_third(order_id, now, rules):
        seen.append(order_id)
        if len(seen) == 3:
            raise RuntimeError("killed inside the batch")
        return real(order_id, now, rules)
    monkeypatch.setattr(sweep, "_time_out", crash_on_third)
    with pytest.raises(RuntimeError):
        sweep.sweep_timeouts()
    assert [time_outs(t) for t in tasks] == [0, 0, 0]
    assert [reload(t).bonus_fen for t in tasks] == [0, 0, 0] and alerts(w.dispatcher) == []
    monkeypatch.setattr(sweep, "_time_out", real)
    assert sweep.sweep_timeouts() == {"timed_out": 3}


def test_a_second_sweep_does_not_start_while_one_holds_the_lease(w):
    overdue_task(w)
    assert jobs.acquire_lease(sweep.LEASE, "someone else", 60)
    assert sweep.sweep_timeouts()["timed_out"] == 0
    assert Order.select().count() == 1 and time_outs(Order.get()) == 0


def test_two_sweeps_at_once_time_each_task_out_exactly_once(w):
    """Past the lease (two scheduler processes started by mistake, or the lease expired),
    the per-order check under the row lock still lets only one sweep move each task."""
    from test_orders_concurrency import race
    tasks = [overdue_task(w, minutes=5 - i % 5) for i in range(12)]
    now = utcnow()
    outcomes = race(2, lambda i: sweep.sweep_batch(now, 50))
    assert sum(moved for _seen, moved in outcomes) == 12
    assert [time_outs(t) for t in tasks] == [1] * 12
    assert len(alerts(w.dispatcher)) == len([o for o in outcomes if o[1]])
