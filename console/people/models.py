"""People area: car-model master data, customers (VIP, loyalty points, vehicles), butlers
(licence points, refusals), suppliers (attributes, certification, documents), uploaded files and
reviews. Each table names the organization column(s) that decide who may see a row."""
from peewee import (
    BooleanField,
    CharField,
    DateTimeField,
    FloatField,
    ForeignKeyField,
    IntegerField,
    TextField,
)

from console.db import BaseModel, utcnow
from console.system.models import Organization, User

__all__ = [
    "CUSTOMER_LEVELS",
    "BUTLER_STATUSES",
    "SUPPLIER_GRADES",
    "CERTIFICATION_STATUSES",
    "REVIEW_TARGETS",
    "REVIEW_RATINGS",
    "LICENCE_POINTS_FULL",
    "PRIOR_STARS",
    "CodeSetField",
    "CarModel",
    "UploadedFile",
    "Customer",
    "LoyaltyPointEntry",
    "Vehicle",
    "Butler",
    "LicencePointDeduction",
    "RefusalCountChange",
    "Supplier",
    "SupplierDocument",
    "CertificationEvent",
    "Review",
    "PEOPLE_MODELS",
]

CUSTOMER_LEVELS = ("regular", "vip")
BUTLER_STATUSES = ("active", "suspended", "left")
SUPPLIER_GRADES = ("A", "B", "C")
CERTIFICATION_STATUSES = ("unsubmitted", "pending", "approved", "rejected", "expired")
REVIEW_TARGETS = ("supplier", "butler")
REVIEW_RATINGS = ("good", "neutral", "bad", "complaint")
LICENCE_POINTS_FULL = 12
PRIOR_STARS = 4.0  # the rating shown before any review; see people.recompute_stars


class CodeSetField(CharField):
    """A set of codes stored as ',a,b,' so one LIKE '%,a,%' finds the rows holding `a`."""

    def db_value(self, value):
        if value is None:
            return None
        codes = sorted({c.strip() for c in value if c and c.strip()})
        return f",{','.join(codes)}," if codes else ""

    def python_value(self, value):
        return [c for c in (value or "").split(",") if c]


class CarModel(BaseModel):
    """Car-model master data: one row per brand / series / year style / displacement."""
    code = CharField(max_length=60, unique=True)
    brand = CharField(max_length=40, index=True)
    brand_pinyin = CharField(max_length=60, default="", index=True)
    series = CharField(max_length=60)
    series_pinyin = CharField(max_length=80, default="", index=True)
    year_style = CharField(max_length=20)  # e.g. "2024款"
    displacement = CharField(max_length=20)  # "1.5T", "2.0L", or "电动" for EVs
    is_active = BooleanField(default=True)
    created_at = DateTimeField(default=utcnow)

    def __str__(self):
        return f"{self.brand} {self.series} {self.year_style} {self.displacement}"


class UploadedFile(BaseModel):
    """A file kept under CONSOLE_UPLOAD_DIR with a random name; the row says who owns it, so
    the download view can check that the viewer may see the owning record."""
    stored_name = CharField(max_length=80, unique=True)
    original_name = CharField(max_length=255, default="")
    content_type = CharField(max_length=60)
    size = IntegerField()
    sha256 = CharField(max_length=64)
    owner_type = CharField(max_length=30, default="", index=True)  # vehicle, supplier_document
    owner_id = IntegerField(null=True, index=True)
    organization = ForeignKeyField(Organization, null=True, backref="+", on_delete="RESTRICT")
    uploaded_by = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    created_at = DateTimeField(default=utcnow)

    scope_org, scope_owner = "organization", "uploaded_by"

    def __str__(self):
        return self.original_name or self.stored_name


class Customer(BaseModel):
    """A registered customer: logs in through the app API as `user` (role customer)."""
    user = ForeignKeyField(User, unique=True, backref="customer_profile", on_delete="RESTRICT")
    name = CharField(max_length=60)
    name_pinyin = CharField(max_length=200, default="", index=True)  # "zhangwei zw"
    mobile = CharField(max_length=20, unique=True)
    level = CharField(max_length=10, default="regular", index=True)
    vip_until = DateTimeField(null=True)
    loyalty_points = IntegerField(default=0)
    organization = ForeignKeyField(Organization, backref="customers", on_delete="RESTRICT")
    is_deleted = BooleanField(default=False)
    created_at = DateTimeField(default=utcnow, index=True)

    scope_org, scope_owner = "organization", "user"

    def __str__(self):
        return f"{self.name} {self.mobile}"

    def is_vip(self, now=None):
        return self.level == "vip" and self.vip_until is not None and \
            self.vip_until > (now or utcnow())


class LoyaltyPointEntry(BaseModel):
    """Append-only history of a customer's loyalty points; the balance is their sum."""
    customer = ForeignKeyField(Customer, backref="loyalty_entries", on_delete="RESTRICT")
    delta = IntegerField()
    balance_after = IntegerField()
    reason = CharField(max_length=255)
    order_no = CharField(max_length=40, default="", index=True)
    actor = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    organization = ForeignKeyField(Organization, backref="+", on_delete="RESTRICT")
    at = DateTimeField(default=utcnow, index=True)

    scope_org = "organization"


class Vehicle(BaseModel):
    """A customer's car. The plate (and the VIN) are unique among vehicles not deleted."""
    customer = ForeignKeyField(Customer, backref="vehicles", on_delete="RESTRICT")
    organization = ForeignKeyField(Organization, backref="+", on_delete="RESTRICT")
    plate = CharField(max_length=10, index=True)
    vin = CharField(max_length=17, index=True)
    car_model = ForeignKeyField(CarModel, backref="vehicles", on_delete="RESTRICT")
    purchase_year = IntegerField(null=True)
    mileage_km = IntegerField(default=0)
    driving_licence = ForeignKeyField(UploadedFile, null=True, backref="+", on_delete="SET NULL")
    vehicle_licence = ForeignKeyField(UploadedFile, null=True, backref="+", on_delete="SET NULL")
    is_deleted = BooleanField(default=False)
    created_at = DateTimeField(default=utcnow)

    scope_org = "organization"

    def __str__(self):
        return self.plate


Vehicle.add_index(Vehicle.plate, unique=True, where=(Vehicle.is_deleted == False))  # noqa: E712
Vehicle.add_index(Vehicle.vin, unique=True, where=(Vehicle.is_deleted == False))  # noqa: E712


class Butler(BaseModel):
    """车总管: a platform driver in a city team. Stars are a cache of `people.recompute_stars`."""
    user = ForeignKeyField(User, unique=True, backref="butler_profile", on_delete="RESTRICT")
    name = CharField(max_length=60)
    name_pinyin = CharField(max_length=200, default="", index=True)
    mobile = CharField(max_length=20, unique=True)
    organization = ForeignKeyField(Organization, backref="butlers", on_delete="RESTRICT")
    city = ForeignKeyField(Organization, null=True, backref="+", on_delete="RESTRICT")
    status = CharField(max_length=12, default="active", index=True)
    is_online = BooleanField(default=False, index=True)
    last_lat = FloatField(null=True)
    last_lng = FloatField(null=True)
    last_seen_at = DateTimeField(null=True)
    licence_points = IntegerField(default=LICENCE_POINTS_FULL)
    refusal_count = IntegerField(default=0)
    stars = FloatField(default=PRIOR_STARS)
    review_count = IntegerField(default=0)
    orders_served = IntegerField(default=0)
    created_at = DateTimeField(default=utcnow)

    scope_org, scope_owner = ("organization", "city"), "user"

    def __str__(self):
        return f"{self.name} {self.mobile}"


class LicencePointDeduction(BaseModel):
    """Append-only: each deduction of a butler's licence points, with its reason."""
    butler = ForeignKeyField(Butler, backref="deductions", on_delete="RESTRICT")
    points = IntegerField()
    balance_after = IntegerField()
    reason = CharField(max_length=255)
    actor = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    organization = ForeignKeyField(Organization, backref="+", on_delete="RESTRICT")
    at = DateTimeField(default=utcnow, index=True)

    scope_org = "organization"


class RefusalCountChange(BaseModel):
    """Append-only: each manual edit of a butler's refusal count."""
    butler = ForeignKeyField(Butler, backref="refusal_changes", on_delete="RESTRICT")
    old_count = IntegerField()
    new_count = IntegerField()
    reason = CharField(max_length=255)
    actor = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    organization = ForeignKeyField(Organization, backref="+", on_delete="RESTRICT")
    at = DateTimeField(default=utcnow, index=True)

    scope_org = "organization"


class Supplier(BaseModel):
    """商家: `organization` is the supplier's own node under SUPPLIERS, so its staff (role
    supplier_admin, data scope "org") see only this supplier; `city` places it for the cities."""
    code = CharField(max_length=12, unique=True)  # the prefix of its service item codes
    name = CharField(max_length=100, index=True)
    name_pinyin = CharField(max_length=200, default="", index=True)
    service_types = CodeSetField(max_length=200, default="")
    organization = ForeignKeyField(Organization, unique=True, backref="supplier_profile",
                                   on_delete="RESTRICT")
    city = ForeignKeyField(Organization, backref="+", on_delete="RESTRICT")
    address = CharField(max_length=255, default="")
    lat = FloatField(null=True)
    lng = FloatField(null=True)
    contact_name = CharField(max_length=60, default="")
    contact_phone = CharField(max_length=20, default="")
    grade = CharField(max_length=1, default="C", index=True)
    stars = FloatField(default=PRIOR_STARS)
    review_count = IntegerField(default=0)
    orders_taken = IntegerField(default=0)
    pay_in_7_days = BooleanField(default=False)
    genuine_parts = BooleanField(default=False)
    certified_technicians = BooleanField(default=False)
    priority_service = BooleanField(default=False)
    is_self_operated = BooleanField(default=False)
    certification_status = CharField(max_length=12, default="unsubmitted", index=True)
    certification_reason = CharField(max_length=255, default="")
    certified_at = DateTimeField(null=True)
    certification_expires_at = DateTimeField(null=True, index=True)
    certification_reminded_at = DateTimeField(null=True)  # expiry reminder sent
    is_active = BooleanField(default=True)
    created_at = DateTimeField(default=utcnow)

    scope_org = ("organization", "city")

    def __str__(self):
        return f"{self.name} ({self.code})"

    @classmethod
    def offering(cls, service_type):
        return cls.select().where(cls.service_types.contains(f",{service_type},"))


class SupplierDocument(BaseModel):
    """A qualification document (business licence, technician certificate, ...)."""
    supplier = ForeignKeyField(Supplier, backref="documents", on_delete="RESTRICT")
    organization = ForeignKeyField(Organization, backref="+", on_delete="RESTRICT")
    title = CharField(max_length=100)
    file = ForeignKeyField(UploadedFile, backref="+", on_delete="RESTRICT")
    valid_until = DateTimeField(null=True)
    uploaded_by = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    is_deleted = BooleanField(default=False)
    created_at = DateTimeField(default=utcnow)

    scope_org = "organization"

    def __str__(self):
        return self.title


class CertificationEvent(BaseModel):
    """Append-only history of a supplier's certification transitions."""
    supplier = ForeignKeyField(Supplier, backref="certification_events", on_delete="RESTRICT")
    organization = ForeignKeyField(Organization, backref="+", on_delete="RESTRICT")
    action = CharField(max_length=12)
    from_status = CharField(max_length=12)
    to_status = CharField(max_length=12)
    reason = CharField(max_length=255, default="")
    actor = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    at = DateTimeField(default=utcnow, index=True)

    scope_org = "organization"


class Review(BaseModel):
    """A customer's review of one order's supplier, or of the butler who served it.
    `organization` is the reviewed party's organization, for data scope."""
    order_no = CharField(max_length=40, index=True)
    target_kind = CharField(max_length=10)
    supplier = ForeignKeyField(Supplier, null=True, backref="reviews", on_delete="RESTRICT")
    butler = ForeignKeyField(Butler, null=True, backref="reviews", on_delete="RESTRICT")
    customer = ForeignKeyField(Customer, null=True, backref="reviews", on_delete="RESTRICT")
    organization = ForeignKeyField(Organization, backref="+", on_delete="RESTRICT")
    rating = CharField(max_length=10, index=True)
    stars = IntegerField()
    text = TextField(default="")
    created_at = DateTimeField(default=utcnow, index=True)

    scope_org = "organization"

    class Meta:
        indexes = ((("order_no", "target_kind"), True),)

    def __str__(self):
        return f"{self.order_no} {self.target_kind} {self.rating}"


PEOPLE_MODELS = [CarModel, UploadedFile, Customer, LoyaltyPointEntry, Vehicle, Butler,
                 LicencePointDeduction, RefusalCountChange, Supplier, SupplierDocument,
                 CertificationEvent, Review]
