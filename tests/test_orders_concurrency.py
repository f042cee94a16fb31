"""Races decided by the database, with real threads on a real database file (and on
PostgreSQL when TEST_DATABASE_URL is set): exactly one of two confirmations, bookings of the
last place, grabs or payment callbacks wins, and concurrent placements never share a number."""
import datetime as dt
import threading

import pytest
from order_factories import World, make_butler, make_item, reload

from console import orders
from console.db import db, utcnow
from console.models import Order, OrderEvent, SupplierTimeSlot
from console.orders import appointments
from console.orders.engine import OrderError


@pytest.fixture
def w(app):
    return World.build()


def race(count, work):
    """Run work(i) in `count` threads released together; each thread has its own connection.
    Returns each thread's result or the OrderError it raised; anything else fails the test."""
    barrier = threading.Barrier(count)
    outcomes, crashes = [None] * count, []

    def run(i):
        with db.connection_context():
            barrier.wait()
            try:
                outcomes[i] = work(i)
            except OrderError as refused:
                outcomes[i] = refused
            except Exception as crash:  # "database is locked" and the like: a real failure
                crashes.append(crash)
    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not crashes, crashes
    return outcomes


def winners(outcomes):
    return [o for o in outcomes if not isinstance(o, OrderError)]


def test_two_confirmations_of_one_quote_exactly_one_succeeds(w):
    order = w.order(status="quoted", final_fen=50000)
    user = w.customer.user
    seen = [Order.get_by_id(order.id) for _ in range(2)]  # both screens show the quote
    outcomes = race(2, lambda i: orders.confirm_quote(seen[i], user))
    assert len(winners(outcomes)) == 1
    assert [o.code for o in outcomes if isinstance(o, OrderError)] == ["state_changed"]
    assert reload(order).status == "in_repair"
    assert OrderEvent.select().where(OrderEvent.order == order.id,
                                     OrderEvent.action == "confirm_quote").count() == 1


def test_two_bookings_of_the_last_place_exactly_one_gets_it(w):
    day = (utcnow() + dt.timedelta(days=2)).date()
    slot, = appointments.open_slots(w.supplier, day, [dt.time(9, 30)], capacity=2)
    item = make_item(w.supplier)
    orders.place_order(w.customer, "maintenance", vehicle=w.vehicle, supplier=w.supplier,
                       items=[item], slot=slot)  # one place left
    outcomes = race(2, lambda i: orders.place_order(
        w.customer, "maintenance", vehicle=w.vehicle, supplier=w.supplier, items=[item],
        slot=slot))
    assert len(winners(outcomes)) == 1
    assert [o.field for o in outcomes if isinstance(o, OrderError)] == ["slot"]
    assert SupplierTimeSlot.get_by_id(slot.id).booked == 2
    assert Order.select().where(Order.supplier == w.supplier.id).count() == 2


def test_two_butlers_grabbing_one_task_one_wins(w):
    order = w.order(status="awaiting_grab")
    butlers = [w.butler, make_butler()]
    seen = [Order.get_by_id(order.id) for _ in range(2)]
    outcomes = race(2, lambda i: orders.grab(seen[i], butlers[i]))
    won = winners(outcomes)
    assert len(won) == 1
    assert reload(order).butler_id == butlers[outcomes.index(won[0])].id


def test_a_payment_callback_delivered_twice_at_once_pays_once(w):
    order = w.order(status="repaired", final_fen=50000)
    seen = [Order.get_by_id(order.id) for _ in range(2)]
    outcomes = race(2, lambda i: orders.mark_paid(seen[i], "PAY-RACE", 50000))
    assert len(winners(outcomes)) == 2 and outcomes[0].id == outcomes[1].id  # same event
    assert reload(order).paid_fen == 50000


def test_concurrent_placements_get_unique_order_numbers(w):
    item = make_item(w.supplier)

    def place_three(i):
        return [orders.place_order(w.customer, "maintenance", vehicle=w.vehicle,
                                   supplier=w.supplier, items=[item]).order_no
                for _ in range(3)]
    outcomes = race(6, place_three)
    numbers = [n for batch in outcomes for n in batch]
    assert len(numbers) == 18 and len(set(numbers)) == 18
    codes = [o.service_code for o in Order.select().where(Order.order_no.in_(numbers))]
    assert len(set(codes)) == 18
