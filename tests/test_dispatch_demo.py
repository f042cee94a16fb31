"""The demo leaves live work: open tasks in the task hall of every demo city and overdue ones
on the dispatch board — placed through the real operations, and not doubled by a second run."""
from console import dispatch
from console.db import utcnow
from console.dispatch import demo
from console.models import Butler, Customer, Order


def test_every_demo_city_has_open_tasks_in_the_hall_and_overdue_ones_on_the_board(app):
    messages = []
    demo.demo_step(10, 3, 1, messages.append)
    cities = {b.city_id for b in Butler.select().where(Butler.status == "active",
                                                       Butler.last_lat.is_null(False))}
    assert cities and Customer.select().exists()
    board = {o.id for o in dispatch.on_board()}
    now = utcnow()
    for city in cities:
        live = list(Order.select().where(Order.city == city, Order.status == "requested"))
        assert sum(1 for o in live if o.id in board) == demo.OVERDUE_PER_CITY, city
        assert sum(1 for o in live if o.id not in board and o.grab_deadline > now) == \
            demo.OPEN_PER_CITY, city
    assert "on the dispatch board" in messages[-1]
    demo.demo_step(10, 3, 1, messages.append)
    assert messages[-1] == "dispatch: live tasks already present"
    assert {o.id for o in dispatch.on_board()} == board
