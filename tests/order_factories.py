"""Factories for order tests (and anyone else's): the people an order involves, created
directly (no password hashing, so fast), and orders in any state for table tests.

    w = World.build()            # customer + car, shop + staff, butlers, dispatcher, service
    order = w.order("maintenance", status="quoted", final_fen=12000)

With `rolled_back()` a test runs in a transaction undone at its end (the `rolled_back`
marker of conftest.py applies it to a whole module) — for tests that need no second connection.
"""
import datetime as dt
import uuid
from contextlib import contextmanager

from console.db import db, utcnow
from console.models import (
    Butler,
    CarModel,
    Customer,
    Order,
    Organization,
    Role,
    ServiceItem,
    ServiceItemPart,
    Supplier,
    User,
    UserRoles,
    Vehicle,
)
from console.orders.engine import insert_order, next_order_no
from console.orders.states import FAMILY_OF, FINAL, HALL_STATES, INITIAL

ALL_TYPES = ("maintenance", "detailing", "insurance", "parts", "rental", "used_car", "towing",
             "designated_driving")
_counter = iter(range(10 ** 6))


def _n():
    return next(_counter)


def org(code):
    return Organization.get(Organization.code == code)


def make_user(role, organization, name=None):
    n = _n()
    user = User.create(email=f"{role}-{n}-{uuid.uuid4().hex[:6]}@test.invalid",
                       full_name=name or f"{role} {n}", password="!", organization=organization,
                       fs_uniquifier=uuid.uuid4().hex)
    UserRoles.create(user=user, role=Role.get(Role.name == role))
    return user


def make_customer(city):
    user = make_user("customer", org("CUSTOMERS"))
    customer = Customer.create(user=user, name=user.full_name,
                               mobile=f"139{uuid.uuid4().int % 10 ** 8:08d}", organization=city)
    return customer


def make_vehicle(customer, displacement="1.5T"):
    model = CarModel.create(code=f"TEST-{uuid.uuid4().hex[:8]}", brand="大众", series="朗逸",
                            year_style="2024款", displacement=displacement)
    n = _n()
    return Vehicle.create(customer=customer, organization=customer.organization_id,
                          plate=f"沪A{n:05d}", vin=f"LSVTEST{n:010d}", car_model=model)


def make_supplier(city, types=ALL_TYPES):
    parent = org("SUPPLIERS")
    code = f"T{uuid.uuid4().hex[:6].upper()}"
    node = Organization.create(code=f"SUP-{code}", name=code, kind="supplier", parent=parent)
    node.path = f"{parent.path}{node.id}/"
    node.save()
    return Supplier.create(code=code, name=f"测试商家 {code}", service_types=list(types),
                           organization=node, city=city)


def make_butler(team_code="SH-BUTLERS", **fields):
    team = org(team_code)
    city = Organization.get_by_id(team.parent_id)
    user = make_user("butler", team)
    return Butler.create(user=user, name=user.full_name,
                         mobile=f"138{uuid.uuid4().int % 10 ** 8:08d}", organization=team,
                         city=city, is_online=True, **fields)


def make_item(supplier, order_type="maintenance", labour_fen=20000, parts=(("机油", 1, 30000),),
              name=None):
    n = _n()
    item = ServiceItem.create(supplier=supplier, organization=supplier.organization_id,
                              code=f"{supplier.code}{n:04d}", code_seq=n,
                              name=name or f"保养套餐 {n}", order_type=order_type,
                              labour_price_fen=labour_fen, review_status="approved")
    for part_name, qty, unit in parts:
        ServiceItemPart.create(item=item, name=part_name, quantity=qty, unit_price_fen=unit)
    return item


class World:
    """Everyone an order involves, plus an outsider of each role who must be refused."""

    @classmethod
    def build(cls):
        w = cls()
        w.city = org("SH")
        w.customer = make_customer(w.city)
        w.vehicle = make_vehicle(w.customer)
        w.supplier = make_supplier(w.city)
        w.supplier_user = make_user("supplier_admin", w.supplier.organization)
        w.butler = make_butler()
        w.dispatcher = make_user("dispatcher", org("SH-DISPATCH"))
        w.service = make_user("customer_service", org("HQ-CS"))
        w.other_customer = make_customer(w.city)
        w.other_supplier_user = make_user("supplier_admin",
                                          make_supplier(w.city).organization)
        w.other_butler = make_butler()
        w.other_dispatcher = make_user("dispatcher", org("BJ-DISPATCH"))
        return w

    def actor(self, role):
        """The user acting in `role` for this world's orders (None is the system)."""
        return {"customer": self.customer.user, "butler": self.butler.user,
                "supplier": self.supplier_user, "dispatcher": self.dispatcher,
                "customer_service": self.service, "system": None}[role]

    def outsiders(self, role):
        """Users of the same kind who have no part in this world's orders."""
        return {"customer": [self.other_customer.user], "butler": [self.other_butler.user],
                "supplier": [self.other_supplier_user], "dispatcher": [self.other_dispatcher],
                "customer_service": [], "system": []}[role]

    def order(self, order_type="maintenance", status=None, needs_butler=None, **fields):
        """An order put directly in `status` (test set-up only: real orders get there through
        transition()). A butler is attached wherever the lifecycle has one past the hall."""
        family = FAMILY_OF[order_type]
        status = status or str(INITIAL[family])
        driven = family in ("towing", "designated_driving")
        if needs_butler is None:
            needs_butler = driven or (family == "repair" and status != "placed")
        has_butler = needs_butler and status not in HALL_STATES and status != "placed"
        now = utcnow()
        values = dict(
            order_no=next_order_no(order_type, now), order_type=order_type, status=status,
            customer=self.customer.id, customer_user=self.customer.user_id,
            vehicle=self.vehicle.id, city=self.city.id, needs_butler=needs_butler,
            supplier=self.supplier.id if not driven and family != "vip" else None,
            supplier_org=self.supplier.organization_id if not driven and family != "vip"
            else None,
            butler=self.butler.id if has_butler else None, estimate_fen=30000,
            details={"months": 3} if family == "vip" else {}, placed_at=now, updated_at=now,
            grab_deadline=now + dt.timedelta(minutes=10) if needs_butler else None)
        values["is_open"] = status not in FINAL[family]
        values.update(fields)
        return insert_order(values)


def reload(order):
    return Order.get_by_id(order.id)


@contextmanager
def rolled_back():
    with db.atomic() as transaction:
        yield
        transaction.rollback()
