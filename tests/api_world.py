"""The people and orders the API tests act on: the demo customer, butler and supplier staff
with their profiles (made here if the people demo has not), and orders placed and moved along
through the operations directly, so each test starts from the state it is about."""
import datetime as dt

from console import orders, people
from console.catalogue import items as catalogue
from console.common.clock import local_day  # noqa: F401  (re-exported for the tests)
from console.models import (
    VEHICLE_TYPES,
    Butler,
    CarModel,
    Customer,
    Order,
    Organization,
    ServiceItem,
    Supplier,
    User,
    Vehicle,
)
from console.orders import appointments

CUSTOMER, BUTLER, SUPPLIER = "customer@demo.local", "butler@demo.local", "supplier@demo.local"
PLATFORM = "platform@demo.local"


def org(code):
    return Organization.get(Organization.code == code)


def user(email):
    return User.get(User.email == email)


def ensure_profiles():
    """The demo customer (with a car, in Shanghai), butler (Shanghai) and supplier (SH001)."""
    customer = Customer.get_or_none(Customer.user == user(CUSTOMER))
    if customer is None:
        customer = Customer.create(user=user(CUSTOMER), name="孙丽", mobile="13800000009",
                                   organization=org("SH"))
    if not customer.vehicles.where(Vehicle.is_deleted == False).exists():  # noqa: E712
        model = CarModel.select().first() or CarModel.create(
            code="TEST-1", brand="大众", series="朗逸", year_style="2024款", displacement="1.5L")
        Vehicle.create(customer=customer, organization=customer.organization, plate="沪A12345",
                       vin="LSVAU2180N2183294", car_model=model)
    if Butler.get_or_none(Butler.user == user(BUTLER)) is None:
        Butler.create(user=user(BUTLER), name="赵磊", mobile="13800000008",
                      organization=org("SH-BUTLERS"), city=org("SH"))
    Butler.update(status="active", licence_points=12).where(
        Butler.user == user(BUTLER)).execute()
    if shop() is None:
        Supplier.create(code="SH001", name="上海安途汽车服务中心",
                        organization=user(SUPPLIER).organization, city=org("SH"),
                        service_types=["detailing"])
    return customer


def me():
    return Customer.get(Customer.user == user(CUSTOMER))


def my_car(customer=None):
    return (customer or me()).vehicles.where(Vehicle.is_deleted == False).first()  # noqa: E712


def shop():
    return Supplier.get_or_none(Supplier.organization == user(SUPPLIER).organization)


def offered_type(supplier):
    return "detailing" if "detailing" in supplier.service_types else supplier.service_types[0]


def approved_item(supplier, order_type):
    """An orderable item of `supplier` for `order_type`, created and approved if none is."""
    item = (ServiceItem.select().where(ServiceItem.supplier == supplier.id,
                                       ServiceItem.order_type == order_type,
                                       ServiceItem.review_status == "approved",
                                       ServiceItem.is_active == True)  # noqa: E712
            .first())
    if item is None:
        item = catalogue.create_item(supplier, "测试保养项目", order_type, 10000)
        catalogue.submit(item)
        catalogue.approve(item, user(PLATFORM))
        item = ServiceItem.get_by_id(item.id)
    return item


def other_customer(city_code="SH", with_car=True):
    """A customer other than the demo one, in `city_code`."""
    query = Customer.select().where(Customer.user != user(CUSTOMER), Customer.is_deleted == False,  # noqa: E712,E501
                                    Customer.organization == org(city_code))
    if with_car:
        query = query.join(Vehicle).where(Vehicle.is_deleted == False)  # noqa: E712
    found = query.first()
    assert found is not None, f"the demo has no other customer in {city_code}"
    return found


def supplier_offering(order_type, exclude=None, city_code="SH"):
    """An active supplier of `city_code` taking `order_type` (made here if the demo has none).
    Filtered in Python: a few hundred rows, and no reliance on the LIKE of the code set."""
    for supplier in Supplier.select().where(Supplier.is_active == True,  # noqa: E712
                                            Supplier.city == org(city_code)).order_by(Supplier.id):
        if order_type in supplier.service_types and (exclude is None or supplier != exclude):
            return supplier
    code = f"T{order_type[:3].upper()}{city_code}"
    return people.create_supplier(code, f"测试{order_type}商家", org(city_code), [order_type])


def place(customer=None, order_type=None, supplier=None, **kw):
    """A repair-family order of the demo shop, self-drive unless needs_butler=True."""
    customer = customer or me()
    supplier = supplier or shop()
    order_type = order_type or offered_type(supplier)
    kw.setdefault("vehicle", my_car(customer) if order_type in VEHICLE_TYPES else None)
    kw.setdefault("items", [approved_item(supplier, order_type)])
    return orders.place_order(customer, order_type, supplier=supplier, **kw)


def staff(email):
    return user(email)


def at_shop(order):
    arrived = orders.verify_service_code(staff(SUPPLIER), order.service_code)
    order.__data__.update(Order.get_by_id(arrived.id).__data__)
    return order


def quoted(order, lines=None):
    at_shop(order)
    orders.quote(order, staff(SUPPLIER), lines or [
        {"kind": "labour", "name": "洗车", "qty": 1, "unit_fen": 8000},
        {"kind": "part", "name": "车蜡", "qty": 2, "unit_fen": 3000}])
    return order


def in_repair(order):
    quoted(order)
    orders.confirm_quote(order, user(CUSTOMER))
    return order


def repaired(order):
    in_repair(order)
    orders.finish_repair(order, staff(SUPPLIER))
    return order


def paid(order):
    repaired(order)
    orders.mark_paid(order, f"TEST-{order.id}", order.amount_due_fen)
    return order


def returned(order):
    paid(order)
    orders.advance(order, "return_car", staff(SUPPLIER))
    return order


def open_slot(supplier=None, capacity=1, days_ahead=2, hour=10):
    supplier = supplier or shop()
    day = dt.date.today() + dt.timedelta(days=days_ahead)
    return appointments.open_slots(supplier, day, [dt.time(hour, 0)], capacity)[0]


def staff_of(supplier):
    """A supplier_admin login for `supplier` (the demo one, or one made here)."""
    if supplier == shop():
        return SUPPLIER
    email = f"staff-{supplier.code.lower()}@test.local"
    if User.get_or_none(User.email == email) is None:
        from console.system.users import create_user
        create_user(email, roles=["supplier_admin"], organization=supplier.organization,
                    password="Demo@2026")
    return email
