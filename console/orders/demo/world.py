"""What the order demo draws from: the people, suppliers, butlers, staff accounts, service items
and pricing rules already in the database, loaded once into plain Python structures so that a
million orders are built without a query each."""
import random
from dataclasses import dataclass, field

from console.models import (
    Butler,
    CarModel,
    Customer,
    Organization,
    PricingRuleSet,
    Role,
    ServiceItem,
    ServiceItemCarModel,
    ServiceItemPart,
    Supplier,
    User,
    UserRoles,
    Vehicle,
)

SUPPLIED_TYPES = ("maintenance", "detailing", "insurance", "parts", "rental", "used_car")
NEEDS_ITEMS = ("parts", "rental")  # nothing to pay for at placing without a priced item


@dataclass
class DemoItem:
    """Duck-types the ServiceItem attributes `pricing.estimate` and `estimate_lines` read."""
    id: int
    name: str
    labour_price_fen: int
    parts: list
    car_models: frozenset | None  # None: fits every model

    @property
    def parts_total_fen(self):
        return sum(p.quantity * p.unit_price_fen for p in self.parts)


@dataclass
class DemoPart:
    name: str
    quantity: int
    unit_price_fen: int


@dataclass
class World:
    cities: dict  # city org id -> code
    customers: list  # (customer id, user id, city id, [(vehicle id, car model id)])
    customers_by_city: dict
    suppliers: dict  # (city id, order type) -> [(supplier id, org id, staff user id)]
    butlers: dict  # city id -> [(butler id, user id, org id)]
    items: dict  # (supplier id, order type) -> [DemoItem]
    displacement: dict  # car model id -> "1.5T"
    dispatchers: dict  # city id -> [user id]
    service_staff: list  # customer service user ids
    rules: list
    types_by_city: dict = field(default_factory=dict)

    def fits(self, supplier_id, order_type, car_model_id):
        return [i for i in self.items.get((supplier_id, order_type), ())
                if i.car_models is None or car_model_id in i.car_models]


def _city_resolver():
    orgs = {o.id: o for o in Organization.select(Organization.id, Organization.kind,
                                                  Organization.path, Organization.code)}

    def city_of(org_id):
        org = orgs.get(org_id)
        if org is None:
            return None
        for ancestor in reversed(org.path.strip("/").split("/")):
            node = orgs.get(int(ancestor)) if ancestor else None
            if node is not None and node.kind == "city":
                return node.id
        return None
    cities = {o.id: o.code for o in orgs.values() if o.kind == "city"}
    return city_of, cities


def _users_with_role(code):
    return list(User.select(User.id, User.organization).join(UserRoles).join(Role)
                .where(Role.name == code, User.is_deleted == False))  # noqa: E712


def _load_items():
    parts, fits = {}, {}
    for part in ServiceItemPart.select():
        parts.setdefault(part.item_id, []).append(
            DemoPart(part.name, part.quantity, part.unit_price_fen))
    for link in ServiceItemCarModel.select():
        fits.setdefault(link.item_id, set()).add(link.car_model_id)
    items = {}
    query = ServiceItem.select().where(ServiceItem.review_status == "approved",
                                       ServiceItem.is_active == True)  # noqa: E712
    for item in query.order_by(ServiceItem.id):
        models = frozenset(fits[item.id]) if item.id in fits else None
        items.setdefault((item.supplier_id, item.order_type), []).append(
            DemoItem(item.id, item.name, item.labour_price_fen, parts.get(item.id, []), models))
    return items


def load_world():
    city_of, cities = _city_resolver()
    vehicles = {}
    for v in Vehicle.select(Vehicle.id, Vehicle.customer, Vehicle.car_model).where(
            Vehicle.is_deleted == False):  # noqa: E712
        vehicles.setdefault(v.customer_id, []).append((v.id, v.car_model_id))
    customers, by_city = [], {}
    for c in Customer.select(Customer.id, Customer.user, Customer.organization).where(
            Customer.is_deleted == False).order_by(Customer.id):  # noqa: E712
        city = city_of(c.organization_id)
        if city is not None:
            row = (c.id, c.user_id, city, vehicles.get(c.id, []))
            customers.append(row)
            by_city.setdefault(city, []).append(row)
    staff = {}
    for user in _users_with_role("supplier_admin"):
        staff.setdefault(user.organization_id, user.id)
    suppliers = {}
    for s in Supplier.select().where(Supplier.is_active == True).order_by(Supplier.id):  # noqa: E712,E501
        for order_type in s.service_types:
            suppliers.setdefault((s.city_id, order_type), []).append(
                (s.id, s.organization_id, staff.get(s.organization_id)))
    butlers = {}
    for b in Butler.select().where(Butler.status == "active").order_by(Butler.id):
        city = b.city_id or city_of(b.organization_id)
        butlers.setdefault(city, []).append((b.id, b.user_id, b.organization_id))
    dispatchers = {}
    for user in _users_with_role("dispatcher"):
        dispatchers.setdefault(city_of(user.organization_id), []).append(user.id)
    world = World(cities=cities, customers=customers, customers_by_city=by_city,
                  suppliers=suppliers, butlers=butlers, items=_load_items(),
                  displacement={m.id: m.displacement for m in
                                CarModel.select(CarModel.id, CarModel.displacement)},
                  dispatchers=dispatchers,
                  service_staff=[u.id for u in _users_with_role("customer_service")],
                  rules=PricingRuleSet.rules())
    world.types_by_city = {city: available_types(world, city) for city in by_city}
    return world


def available_types(world, city):
    """Order types the demo can place in `city` with what exists there: a supplier (with a
    priced item where the type needs one), a butler for butler tasks, customers with cars."""
    types = []
    has_cars = any(row[3] for row in world.customers_by_city.get(city, ()))
    for order_type in ("maintenance", "detailing", "insurance", "parts", "rental", "used_car",
                       "towing", "designated_driving", "vip"):
        if order_type in ("maintenance", "detailing", "insurance", "towing") and not has_cars:
            continue
        if order_type in SUPPLIED_TYPES:
            offers = world.suppliers.get((city, order_type), [])
            if order_type in NEEDS_ITEMS:
                offers = [s for s in offers if world.items.get((s[0], order_type))]
            if not offers:
                continue
        if order_type in ("towing", "designated_driving") and not world.butlers.get(city):
            continue
        types.append(order_type)
    return types


def pick_customer(rng: random.Random, world, city):
    """Some customers come back often: a skewed draw over the city's customers."""
    pool = world.customers_by_city[city]
    return pool[int(len(pool) * rng.random() ** 1.7)]
