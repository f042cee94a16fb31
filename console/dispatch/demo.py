"""The dispatch area's share of `flask --app run demo`: live work for a fresh demo — in every
demo city a few tasks open in the task hall and a few nobody grabbed in time, swept onto the
dispatch board (placed through `orders.place_order`, so their events and fees are real)."""
import datetime as dt
import random

from console.db import utcnow
from console.dispatch.sweep import on_board, sweep_timeouts
from console.models import Butler, Customer, Organization, Vehicle
from console.orders import place_order

OPEN_PER_CITY, OVERDUE_PER_CITY = 2, 3


def demo_step(orders, seed, scale, echo):
    """Live tasks with the demo orders (`--orders N`, N > 0)."""
    if orders <= 0:
        return
    if on_board().exists():
        echo("dispatch: live tasks already present")
        return
    rng, now, made = random.Random(seed), utcnow(), 0
    for city in Organization.select().where(Organization.kind == "city").order_by(
            Organization.id):
        made += _city_tasks(city, rng, now)
    moved = sweep_timeouts(now=now)["timed_out"]
    echo(f"dispatch: {made} live tasks placed, {moved} of them on the dispatch board")


def _city_tasks(city, rng, now):
    butlers = list(Butler.select().where(Butler.city == city.id, Butler.status == "active",
                                         Butler.last_lat.is_null(False)))
    customers = [c for c in Customer.select().where(Customer.is_deleted == False)  # noqa: E712
                 .order_by(Customer.id).limit(200) if _in(c, city)]
    if not butlers or not customers:
        return 0
    made = 0
    for n in range(OPEN_PER_CITY + OVERDUE_PER_CITY):
        minutes_ago = rng.randint(1, 4) if n < OPEN_PER_CITY else rng.randint(15, 50)
        near = rng.choice(butlers)
        details = {"pickup_lat": round(near.last_lat + rng.uniform(-0.03, 0.03), 5),
                   "pickup_lng": round(near.last_lng + rng.uniform(-0.03, 0.03), 5)}
        customer = rng.choice(customers)
        vehicle = Vehicle.select().where(Vehicle.customer == customer.id,
                                         Vehicle.is_deleted == False).first()  # noqa: E712
        at = now - dt.timedelta(minutes=minutes_ago)
        if vehicle is not None and rng.random() < 0.5:
            place_order(customer, "towing", vehicle=vehicle, city=city, now=at,
                               details=details)
        else:
            place_order(customer, "designated_driving", city=city, now=at,
                               distance_m=rng.randint(5, 30) * 1000, details=details)
        made += 1
    return made


def _in(customer, city):
    return customer.organization_id == city.id or \
        city.id in customer.organization.ancestors_and_self_ids()
