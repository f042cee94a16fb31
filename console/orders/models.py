"""Orders area: orders and their event timeline, line items, appointments against supplier time
slots, progress reports, follow-up visits, complaints and rework requests.

Only `console.orders.transition()` writes `Order.status`; everything here is fields, indexes and
small queries."""
from peewee import (
    BooleanField,
    CharField,
    DateField,
    DateTimeField,
    ForeignKeyField,
    IntegerField,
    TextField,
    TimeField,
)

from console.catalogue.models import ServiceItem
from console.db import BaseModel, JSONField, MoneyField, utcnow
from console.people.models import Butler, Customer, Supplier, Vehicle
from console.system.models import Organization, User

__all__ = [
    "VEHICLE_TYPES",
    "ACTOR_ROLES",
    "LINE_KINDS",
    "LINE_SOURCES",
    "COST_CHANGE_STATUSES",
    "COMPLAINT_STATUSES",
    "REWORK_STATUSES",
    "APPOINTMENT_STATUSES",
    "OrderCounter",
    "Order",
    "OrderEvent",
    "ProgressReport",
    "OrderLine",
    "SupplierTimeSlot",
    "Appointment",
    "FollowUpVisit",
    "Complaint",
    "ReworkRequest",
    "ORDER_MODELS",
]

# types whose service is done on a car: an order of these types names the vehicle
VEHICLE_TYPES = ("maintenance", "detailing", "insurance", "towing")
ACTOR_ROLES = ("customer", "butler", "supplier", "dispatcher", "customer_service", "system")
LINE_KINDS = ("labour", "part", "fee", "discount")
LINE_SOURCES = ("estimate", "final", "change")
COST_CHANGE_STATUSES = ("none", "pending", "confirmed", "rejected")
COMPLAINT_STATUSES = ("open", "handling", "resolved")
REWORK_STATUSES = ("open", "done", "rejected")
APPOINTMENT_STATUSES = ("booked", "cancelled", "done")


class OrderCounter(BaseModel):
    """One row per local day: the last sequence number given out that day."""
    day = CharField(max_length=8, primary_key=True)  # YYYYMMDD in the platform time zone
    value = IntegerField(default=0)


class Order(BaseModel):
    order_no = CharField(max_length=24, unique=True)
    order_type = CharField(max_length=20)
    status = CharField(max_length=20)
    customer = ForeignKeyField(Customer, backref="orders", on_delete="RESTRICT", index=False)
    customer_user = ForeignKeyField(User, backref="+", on_delete="RESTRICT", index=False)
    vehicle = ForeignKeyField(Vehicle, null=True, backref="orders", on_delete="RESTRICT",
                              index=False)
    supplier = ForeignKeyField(Supplier, null=True, backref="orders", on_delete="RESTRICT",
                               index=False)
    butler = ForeignKeyField(Butler, null=True, backref="orders", on_delete="RESTRICT",
                             index=False)
    city = ForeignKeyField(Organization, backref="+", on_delete="RESTRICT", index=False)
    supplier_org = ForeignKeyField(Organization, null=True, backref="+", on_delete="RESTRICT",
                                   index=False)
    needs_butler = BooleanField(default=False)
    service_code = CharField(max_length=12, index=True)
    is_open = BooleanField(default=True)  # false once the order reaches a final state
    estimate_fen = MoneyField(default=0)
    final_fen = MoneyField(null=True)  # set by the shop's quote (or the trip / valuation)
    paid_fen = MoneyField(default=0)
    discount_fen = MoneyField(default=0)
    butler_fee_fen = MoneyField(default=0)
    delivery_fee_fen = MoneyField(default=0)
    bonus_fen = MoneyField(default=0)  # refusal / timeout bonus for whoever takes the task
    pricing_rule_versions = JSONField(default=dict)  # kind -> PricingRuleSet id
    details = JSONField(default=dict)  # type-specific: policy no, km driven, vip months, ...
    note = TextField(default="")
    grab_deadline = DateTimeField(null=True, index=True)
    refusal_count = IntegerField(default=0)
    placed_at = DateTimeField(default=utcnow, index=True)
    paid_at = DateTimeField(null=True)
    closed_at = DateTimeField(null=True)
    updated_at = DateTimeField(default=utcnow, index=True)

    scope_org, scope_owner = ("city", "supplier_org"), "customer_user"

    class Meta:
        table_name = "orders"  # "order" is an SQL keyword: raw SQL would need quoting
        indexes = (
            (("status", "placed_at"), False),
            (("order_type", "placed_at"), False),
            (("city", "placed_at"), False),
            (("supplier", "placed_at"), False),
            (("supplier_org", "placed_at"), False),
            (("butler", "placed_at"), False),
            (("customer", "placed_at"), False),
            (("customer_user", "placed_at"), False),
            (("vehicle", "placed_at"), False),
        )

    def __str__(self):
        return self.order_no

    @property
    def amount_due_fen(self):
        """What the customer still owes: the final price (or the estimate before a quote),
        plus fees, less discount and what is already paid."""
        price = self.final_fen if self.final_fen is not None else self.estimate_fen
        return max(0, price + self.butler_fee_fen + self.delivery_fee_fen
                   - self.discount_fen - self.paid_fen)

    @classmethod
    def awaiting_grab(cls):
        return cls.select().where(cls.status == "awaiting_grab").order_by(cls.placed_at)


# A service code identifies one open order: unique among open orders, reusable after close.
Order.add_index(Order.service_code, unique=True, where=(Order.is_open == True),  # noqa: E712
                name="order_open_service_code")


class OrderEvent(BaseModel):
    """One move of an order: who, when, from which state to which, why, and money changed."""
    order = ForeignKeyField(Order, backref="events", on_delete="RESTRICT", index=False)
    at = DateTimeField(default=utcnow)
    actor = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    actor_role = CharField(max_length=20)
    action = CharField(max_length=30)
    from_status = CharField(max_length=20, null=True)  # null for the placing event
    to_status = CharField(max_length=20)
    note = TextField(default="")
    amounts = JSONField(null=True)  # {"final_fen": [old, new], ...}
    ref = CharField(max_length=64, default="", index=True)  # payment reference, etc.

    class Meta:
        indexes = ((("order", "at"), False),)


class ProgressReport(BaseModel):
    """A shop's report during repair; a cost change waits for the customer's confirmation
    before it changes the final price."""
    order = ForeignKeyField(Order, backref="progress_reports", on_delete="RESTRICT")
    at = DateTimeField(default=utcnow)
    author = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    text = TextField()
    photos = JSONField(default=list)  # UploadedFile ids
    cost_change_fen = MoneyField(default=0)
    cost_change_status = CharField(max_length=10, default="none")
    proposed_lines = JSONField(default=list)  # the lines explaining the change
    decided_at = DateTimeField(null=True)
    decided_by = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")

    @property
    def needs_confirmation(self):
        return self.cost_change_status == "pending"


class OrderLine(BaseModel):
    """A priced line: the estimate's items, the shop's final quote, or a confirmed change."""
    order = ForeignKeyField(Order, backref="lines", on_delete="RESTRICT")
    kind = CharField(max_length=10)
    name = CharField(max_length=120)
    qty = IntegerField(default=1)
    unit_fen = MoneyField(default=0)
    amount_fen = MoneyField(default=0)
    source = CharField(max_length=10)
    service_item = ForeignKeyField(ServiceItem, null=True, backref="+", on_delete="RESTRICT")
    progress = ForeignKeyField(ProgressReport, null=True, backref="lines", on_delete="RESTRICT")


class SupplierTimeSlot(BaseModel):
    """A bookable slot of a supplier; `booked` never passes `capacity` (conditional update)."""
    supplier = ForeignKeyField(Supplier, backref="time_slots", on_delete="RESTRICT")
    organization = ForeignKeyField(Organization, backref="+", on_delete="RESTRICT")
    date = DateField()
    start = TimeField()
    capacity = IntegerField(default=1)
    booked = IntegerField(default=0)

    scope_org = "organization"

    class Meta:
        indexes = ((("supplier", "date", "start"), True),)

    def __str__(self):
        return f"{self.date} {self.start:%H:%M}"

    @property
    def free(self):
        return max(0, self.capacity - self.booked)


class Appointment(BaseModel):
    order = ForeignKeyField(Order, backref="appointments", on_delete="RESTRICT")
    slot = ForeignKeyField(SupplierTimeSlot, backref="appointments", on_delete="RESTRICT")
    status = CharField(max_length=10, default="booked")
    created_at = DateTimeField(default=utcnow)


class FollowUpVisit(BaseModel):
    """回访: customer service calls the customer after completion."""
    order = ForeignKeyField(Order, backref="follow_ups", on_delete="RESTRICT")
    by = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    city = ForeignKeyField(Organization, backref="+", on_delete="RESTRICT")
    at = DateTimeField(default=utcnow, index=True)
    satisfaction = IntegerField()  # 1..5
    note = TextField(default="")

    scope_org = "city"


class Complaint(BaseModel):
    order = ForeignKeyField(Order, backref="complaints", on_delete="RESTRICT")
    city = ForeignKeyField(Organization, backref="+", on_delete="RESTRICT")
    by = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    text = TextField()
    status = CharField(max_length=10, default="open", index=True)
    handler = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    resolution = TextField(default="")
    created_at = DateTimeField(default=utcnow, index=True)
    resolved_at = DateTimeField(null=True)

    scope_org = "city"


class ReworkRequest(BaseModel):
    order = ForeignKeyField(Order, backref="rework_requests", on_delete="RESTRICT")
    by = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    reason = TextField()
    status = CharField(max_length=10, default="open", index=True)
    created_at = DateTimeField(default=utcnow)
    done_at = DateTimeField(null=True)


ORDER_MODELS = [OrderCounter, Order, OrderEvent, ProgressReport, OrderLine, SupplierTimeSlot,
                Appointment, FollowUpVisit, Complaint, ReworkRequest]
