"""Catalogue area: suppliers' service items (platform-reviewed before they can be ordered) and
the versioned pricing rule sets every fee is computed from."""
from peewee import (
    BooleanField,
    CharField,
    DateTimeField,
    ForeignKeyField,
    IntegerField,
    TextField,
    fn,
)

from console.db import BaseModel, JSONField, MoneyField, utcnow
from console.people.models import CarModel, Supplier
from console.system.models import Organization, User

__all__ = [
    "REVIEW_STATUSES",
    "PRICING_KINDS",
    "ServiceItem",
    "ServiceItemCarModel",
    "ServiceItemPart",
    "PricingRuleSet",
    "CATALOGUE_MODELS",
]

REVIEW_STATUSES = ("draft", "pending", "approved", "rejected")
PRICING_KINDS = ("estimate", "butler_fee", "designated_driving_fee", "delivery_fee",
                 "loyalty_points", "refusal_bonus")


class ServiceItem(BaseModel):
    """A priced service a supplier offers. `code` is the supplier's code plus a 4-digit
    sequence; `organization` copies the supplier's own node so its staff see only their items."""
    supplier = ForeignKeyField(Supplier, backref="service_items", on_delete="RESTRICT")
    organization = ForeignKeyField(Organization, backref="+", on_delete="RESTRICT")
    code = CharField(max_length=20, unique=True)
    code_seq = IntegerField()
    name = CharField(max_length=100, index=True)
    order_type = CharField(max_length=20, index=True)
    labour_price_fen = MoneyField(default=0)  # 工时价
    review_status = CharField(max_length=10, default="draft", index=True)
    review_reason = CharField(max_length=500, default="")
    reviewed_by = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    reviewed_at = DateTimeField(null=True)
    is_active = BooleanField(default=True, index=True)
    created_by = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    created_at = DateTimeField(default=utcnow)
    updated_at = DateTimeField(default=utcnow)

    scope_org = "organization"

    class Meta:
        indexes = ((("supplier", "code_seq"), True),)

    def __str__(self):
        return f"{self.code} {self.name}"

    @property
    def parts_total_fen(self):
        return sum(p.quantity * p.unit_price_fen for p in self.parts)

    @property
    def total_fen(self):
        return self.labour_price_fen + self.parts_total_fen

    def part_lines(self):
        return list(self.parts.order_by(ServiceItemPart.id))

    def car_model_ids(self):
        return [link.car_model_id for link in self.car_model_links]


class ServiceItemCarModel(BaseModel):
    """The car models an item applies to; an item with no rows applies to every model."""
    item = ForeignKeyField(ServiceItem, backref="car_model_links", on_delete="CASCADE")
    car_model = ForeignKeyField(CarModel, backref="+", on_delete="RESTRICT")

    class Meta:
        indexes = ((("item", "car_model"), True),)


class ServiceItemPart(BaseModel):
    """A parts line of an item: whole units at a unit price."""
    item = ForeignKeyField(ServiceItem, backref="parts", on_delete="CASCADE")
    name = CharField(max_length=100)
    part_no = CharField(max_length=60, default="")
    quantity = IntegerField(default=1)
    unit_price_fen = MoneyField(default=0)

    def __str__(self):
        return f"{self.name} × {self.quantity}"


class PricingRuleSet(BaseModel):
    """One version of a pricing parameter set. Versions are never edited once in force: a
    change is a new version with its own effective date, so every order can name the one used."""
    kind = CharField(max_length=30, index=True)
    version = IntegerField()
    effective_from = DateTimeField(index=True)  # UTC
    parameters = JSONField()
    note = TextField(default="")
    created_by = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    created_at = DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("kind", "version"), True),)

    def __str__(self):
        return f"{self.kind} v{self.version}"

    @classmethod
    def next_version(cls, kind):
        return (cls.select(fn.MAX(cls.version)).where(cls.kind == kind).scalar() or 0) + 1

    @classmethod
    def rules(cls, *kinds):
        """Every version of the given kinds (all kinds when none are named), for pricing."""
        query = cls.select()
        return list(query.where(cls.kind.in_(kinds)) if kinds else query)


CATALOGUE_MODELS = [ServiceItem, ServiceItemCarModel, ServiceItemPart, PricingRuleSet]
