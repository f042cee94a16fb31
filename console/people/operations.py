"""Operations on the platform's people: customers (VIP, loyalty points, vehicles), butlers
(licence points, refusals, status), suppliers (creation, certification) and reviews with the
star ratings derived from them. Plain functions: views, the API, jobs and the demo call them.

Bad input raises `InvalidValue(field, message)`; nothing is changed then."""
import datetime as dt
import re
from decimal import ROUND_HALF_UP, Decimal

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from peewee import Case, IntegrityError, fn
from pypinyin import Style, lazy_pinyin

from console.common.validators import InvalidValue, validate_mobile, validate_plate, validate_vin
from console.db import db, utcnow
from console.people import uploads
from console.people.models import (
    BUTLER_STATUSES,
    LICENCE_POINTS_FULL,
    PRIOR_STARS,
    REVIEW_RATINGS,
    SERVICE_TYPES,
    Butler,
    CarModel,
    CertificationEvent,
    Customer,
    LicencePointDeduction,
    LoyaltyPointEntry,
    RefusalCountChange,
    Review,
    Supplier,
    SupplierDocument,
    Vehicle,
)
from console.system import audit, notify, users
from console.system.models import Organization, User

CUSTOMERS_ORG = "CUSTOMERS"
SUPPLIERS_ORG = "SUPPLIERS"


def _reason(reason, field="reason"):
    reason = (reason or "").strip()
    if not reason:
        raise InvalidValue(field, _("Reason: required, so the history explains the change"))
    return reason[:255]


def whole_number(value, field, label, minimum=0, maximum=None):
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        raise InvalidValue(field, _("%(field)s: must be a whole number", field=label)) from None
    if number < minimum or (maximum is not None and number > maximum):
        raise InvalidValue(field, _("%(field)s: must be between %(low)d and %(high)d",
                                    field=label, low=minimum,
                                    high=maximum if maximum is not None else 10 ** 9))
    return number


def pinyin_key(text):
    """Full pinyin and initials, e.g. 张伟 -> "zhangwei zw", so staff can search either."""
    full = "".join(lazy_pinyin(text or "")).replace(" ", "").lower()
    initials = "".join(lazy_pinyin(text or "", style=Style.FIRST_LETTER)).replace(" ", "")
    return f"{full} {initials.lower()}"[:200]


# ---- accounts ------------------------------------------------------------------------
def city_of(org):
    """The nearest city node at or above `org` (a butler team sits under its city)."""
    ids = org.ancestors_and_self_ids()
    cities = {o.id: o for o in Organization.select().where(Organization.id.in_(ids),
                                                           Organization.kind == "city")}
    return next((cities[i] for i in reversed(ids) if i in cities), None)


def _require_city(org, field="organization"):
    if org is None or org.kind != "city":
        raise InvalidValue(field, _("City: choose a city organization"))
    return org


# ---- customers -----------------------------------------------------------------------
def register_customer(name, mobile, city, password=None, actor=None):
    """A new customer with an app login (role customer); the city decides who may see them."""
    customer = Customer(name=name, mobile=mobile, organization=city)
    with db.atomic():
        open_customer_account(customer, password)
        customer.save(force_insert=True)
        audit.record("create", customer, None, audit.snapshot(customer), actor=actor)
    return customer


def open_customer_account(customer, password=None):
    """Validate a new customer and create its app login; the caller saves the customer."""
    check_customer(customer)
    org = Organization.get(Organization.code == CUSTOMERS_ORG)
    customer.user = users.create_user(
        users.app_login_email("customer", customer.mobile), roles=["customer"], organization=org,
        password=password, phone=customer.mobile, full_name=customer.name, phone_field="mobile")
    return customer


def check_customer(customer):
    """Validate a customer edited in the console and carry it to the login account."""
    customer.name = (customer.name or "").strip()
    if not customer.name:
        raise InvalidValue("name", _("Name: required"))
    customer.name_pinyin = pinyin_key(customer.name)
    customer.mobile = validate_mobile(customer.mobile)
    _require_city(customer.organization if customer.organization_id else None)
    if customer.level == "vip" and customer.vip_until is None:
        raise InvalidValue("vip_until", _("VIP until: a VIP customer needs an end date"))
    clash = Customer.select().where(Customer.mobile == customer.mobile)
    if customer.id:
        clash = clash.where(Customer.id != customer.id)
        users.sync_login(customer.user_id, customer.mobile, customer.name)
    if clash.exists():
        raise InvalidValue("mobile", _("Mobile: %(mobile)s is already registered",
                                       mobile=customer.mobile))


def set_vip(customer, until, actor, reason=""):
    """Make a customer VIP until `until` (UTC), or regular again when `until` is None."""
    with db.atomic():
        before = audit.snapshot(customer)
        customer.level = "vip" if until else "regular"
        customer.vip_until = until
        customer.save(only=[Customer.level, Customer.vip_until])
        audit.record("set_vip", customer, before, audit.snapshot(customer), note=reason,
                     actor=actor)
    return customer


def add_loyalty_points(customer, delta, reason, actor=None, order_no=""):
    """Credit (or debit, with a negative delta) loyalty points; a balance never goes below
    zero. The conditional update makes two concurrent debits safe."""
    delta = int(delta)
    reason = _reason(reason)
    with db.atomic():
        changed = Customer.update(loyalty_points=Customer.loyalty_points + delta).where(
            Customer.id == customer.id, Customer.loyalty_points + delta >= 0).execute()
        if not changed:
            raise InvalidValue("loyalty_points", _("Loyalty points: the balance is too low"))
        balance = Customer.select(Customer.loyalty_points).where(
            Customer.id == customer.id).scalar()
        entry = LoyaltyPointEntry.create(customer=customer, delta=delta, balance_after=balance,
                                         reason=reason, order_no=order_no or "",
                                         actor=actor.id if actor else None,
                                         organization=customer.organization_id)
    customer.loyalty_points = balance
    return entry


# ---- vehicles ------------------------------------------------------------------------
def check_vehicle(vehicle):
    """Normalize and validate a vehicle; plate and VIN must be unique among live vehicles."""
    vehicle.plate = validate_plate(vehicle.plate)
    vehicle.vin = validate_vin(vehicle.vin)
    if vehicle.car_model_id is None:
        raise InvalidValue("car_model", _("Car model: required"))
    this_year = utcnow().year
    if vehicle.purchase_year is not None and not 1980 <= vehicle.purchase_year <= this_year:
        raise InvalidValue("purchase_year", _("Purchase year: must be between 1980 and "
                                              "%(year)d", year=this_year))
    if (vehicle.mileage_km or 0) < 0:
        raise InvalidValue("mileage_km", _("Mileage: cannot be negative"))
    vehicle.organization = vehicle.customer.organization_id
    live = Vehicle.select().where(Vehicle.is_deleted == False)  # noqa: E712
    if vehicle.id:
        live = live.where(Vehicle.id != vehicle.id)
    if live.where(Vehicle.plate == vehicle.plate).exists():
        raise InvalidValue("plate", _("Plate: %(plate)s is already registered to another "
                                      "vehicle", plate=vehicle.plate))
    if live.where(Vehicle.vin == vehicle.vin).exists():
        raise InvalidValue("vin", _("VIN: %(vin)s is already registered to another vehicle",
                                    vin=vehicle.vin))
    return vehicle


def add_vehicle(customer, plate, vin, car_model, actor=None, **extra):
    vehicle = Vehicle(customer=customer, plate=plate, vin=vin, car_model=car_model, **extra)
    check_vehicle(vehicle)
    with db.atomic():
        vehicle.save(force_insert=True)
        audit.record("create", vehicle, None, audit.snapshot(vehicle), actor=actor)
    return vehicle


def remove_vehicle(vehicle, actor, reason):
    """Vehicles are never deleted: they leave the customer's list and free the plate."""
    reason = _reason(reason)
    with db.atomic():
        Vehicle.update(is_deleted=True).where(Vehicle.id == vehicle.id).execute()
        audit.record("remove", vehicle, {"is_deleted": False}, {"is_deleted": True},
                     note=reason, actor=actor)


# ---- butlers -------------------------------------------------------------------------
def register_butler(name, mobile, team, password=None, actor=None):
    """A new butler in a city team, with an app login (role butler)."""
    butler = Butler(name=name, mobile=mobile, organization=team)
    with db.atomic():
        open_butler_account(butler, password)
        butler.save(force_insert=True)
        audit.record("create", butler, None, audit.snapshot(butler), actor=actor)
    return butler


def open_butler_account(butler, password=None):
    """Validate a new butler and create its app login; the caller saves the butler."""
    check_butler(butler)
    butler.user = users.create_user(
        users.app_login_email("butler", butler.mobile), roles=["butler"],
        organization=butler.organization, password=password, phone=butler.mobile,
        full_name=butler.name, phone_field="mobile")
    return butler


def check_butler(butler):
    """Validate a butler edited in the console; the city follows the team."""
    butler.name = (butler.name or "").strip()
    if not butler.name:
        raise InvalidValue("name", _("Name: required"))
    butler.name_pinyin = pinyin_key(butler.name)
    butler.mobile = validate_mobile(butler.mobile)
    if butler.status not in BUTLER_STATUSES:
        raise InvalidValue("status", _("Status: unknown value"))
    city = city_of(butler.organization) if butler.organization_id else None
    if city is None:
        raise InvalidValue("organization", _("Team: choose a team inside a city"))
    butler.city = city
    clash = Butler.select().where(Butler.mobile == butler.mobile)
    if butler.id:
        clash = clash.where(Butler.id != butler.id)
        users.sync_login(butler.user_id, butler.mobile, butler.name, butler.organization_id)
    if clash.exists():
        raise InvalidValue("mobile", _("Mobile: %(mobile)s is already registered",
                                       mobile=butler.mobile))


def can_take_work(butler):
    """A butler may be given orders while active and holding licence points."""
    return butler.status == "active" and butler.licence_points > 0


def set_butler_status(butler, status, reason, actor):
    if status not in BUTLER_STATUSES:
        raise InvalidValue("status", _("Status: unknown value"))
    reason = _reason(reason)
    with db.atomic():
        before = {"status": butler.status}
        butler.status = status
        if status != "active":
            butler.is_online = False
        Butler.update(status=status, is_online=butler.is_online).where(
            Butler.id == butler.id).execute()
        audit.record("set_status", butler, before, {"status": status}, note=reason, actor=actor)
    return butler


def deduct_licence_points(butler, points, reason, actor):
    """Deduct licence points for an infraction. At 0 the butler can take no more work. The
    conditional update refuses to go below zero even when two staff deduct at once."""
    points = whole_number(points, "points", _("Licence points"), 1, LICENCE_POINTS_FULL)
    reason = _reason(reason)
    with db.atomic():
        changed = Butler.update(licence_points=Butler.licence_points - points).where(
            Butler.id == butler.id, Butler.licence_points >= points).execute()
        if not changed:
            left = Butler.select(Butler.licence_points).where(Butler.id == butler.id).scalar()
            raise InvalidValue("points", _("Points: the butler has only %(left)d licence "
                                           "points left", left=left))
        balance = Butler.select(Butler.licence_points).where(Butler.id == butler.id).scalar()
        entry = LicencePointDeduction.create(butler=butler, points=points, balance_after=balance,
                                             reason=reason, actor=actor.id if actor else None,
                                             organization=butler.organization_id)
        audit.record("deduct_licence_points", butler, {"licence_points": balance + points},
                     {"licence_points": balance}, note=reason, actor=actor)
    butler.licence_points = balance
    return entry


def restore_licence_points(butler, reason, actor):
    """A new scoring period: back to the full 12, recorded as a negative deduction."""
    reason = _reason(reason)
    with db.atomic():
        before = Butler.select(Butler.licence_points).where(Butler.id == butler.id).scalar()
        Butler.update(licence_points=LICENCE_POINTS_FULL).where(Butler.id == butler.id).execute()
        entry = LicencePointDeduction.create(
            butler=butler, points=before - LICENCE_POINTS_FULL, balance_after=LICENCE_POINTS_FULL,
            reason=reason, actor=actor.id if actor else None, organization=butler.organization_id)
        audit.record("restore_licence_points", butler, {"licence_points": before},
                     {"licence_points": LICENCE_POINTS_FULL}, note=reason, actor=actor)
    butler.licence_points = LICENCE_POINTS_FULL
    return entry


def set_refusal_count(butler, new_count, reason, actor):
    """Correct a butler's refusal count by hand (the plan asks for it), with a reason."""
    new_count = whole_number(new_count, "refusal_count", _("Refusal count"), 0, 10000)
    reason = _reason(reason)
    with db.atomic():
        old = Butler.select(Butler.refusal_count).where(Butler.id == butler.id).scalar()
        Butler.update(refusal_count=new_count).where(Butler.id == butler.id).execute()
        change = RefusalCountChange.create(butler=butler, old_count=old, new_count=new_count,
                                           reason=reason, actor=actor.id if actor else None,
                                           organization=butler.organization_id)
        audit.record("set_refusal_count", butler, {"refusal_count": old},
                     {"refusal_count": new_count}, note=reason, actor=actor)
    butler.refusal_count = new_count
    return change


# ---- car models ----------------------------------------------------------------------
CAR_MODEL_CODE = re.compile(r"[A-Z0-9][A-Z0-9.\-]{2,59}")


def check_car_model(model):
    """Validate a car model typed in the console; pinyin is filled in when left empty."""
    model.code = (model.code or "").strip().upper()
    if not CAR_MODEL_CODE.fullmatch(model.code):
        raise InvalidValue("code", _("Model code: 3 to 60 capital letters, digits, dots or "
                                     "hyphens, e.g. VW-LAVIDA-2024-15L"))
    for field, label in (("brand", _("Brand")), ("series", _("Series")),
                         ("year_style", _("Year style")), ("displacement", _("Displacement"))):
        setattr(model, field, (getattr(model, field) or "").strip())
        if not getattr(model, field):
            raise InvalidValue(field, _("%(field)s: required", field=label))
    model.brand_pinyin = (model.brand_pinyin or "").strip() or \
        "".join(lazy_pinyin(model.brand)).replace(" ", "").lower()
    model.series_pinyin = (model.series_pinyin or "").strip() or \
        "".join(lazy_pinyin(model.series)).replace(" ", "").lower()
    clash = CarModel.select().where(CarModel.code == model.code)
    if model.id:
        clash = clash.where(CarModel.id != model.id)
    if clash.exists():
        raise InvalidValue("code", _("Model code: %(code)s is already used", code=model.code))


# ---- suppliers -----------------------------------------------------------------------
SUPPLIER_CODE = re.compile(r"[A-Z][A-Z0-9]{2,11}")


def _supplier_org(code, name):
    """Each supplier gets its own organization node under SUPPLIERS for its staff."""
    parent = Organization.get(Organization.code == SUPPLIERS_ORG)
    org = Organization.create(code=f"SUP-{code}", name=name, name_en=name, kind="supplier",
                              parent=parent)
    org.path = f"{parent.path}{org.id}/"
    org.save(only=[Organization.path])
    return org


def check_supplier(supplier):
    """Validate a supplier created or edited in the console; a new one gets its org node."""
    supplier.code = (supplier.code or "").strip().upper()
    if not SUPPLIER_CODE.fullmatch(supplier.code):
        raise InvalidValue("code", _("Supplier code: 3 to 12 capital letters or digits, "
                                     "starting with a letter"))
    supplier.name = (supplier.name or "").strip()
    if not supplier.name:
        raise InvalidValue("name", _("Name: required"))
    supplier.name_pinyin = pinyin_key(supplier.name)
    unknown = set(supplier.service_types or []) - set(SERVICE_TYPES)
    if not supplier.service_types or unknown:
        raise InvalidValue("service_types", _("Service types: choose at least one known type"))
    _require_city(supplier.city if supplier.city_id else None, "city")
    if supplier.contact_phone:
        supplier.contact_phone = validate_mobile(supplier.contact_phone, "contact_phone")
    for field, low, high in (("lat", -90, 90), ("lng", -180, 180)):
        value = getattr(supplier, field)
        if value is not None and not low <= value <= high:
            raise InvalidValue(field, _("Location: latitude or longitude out of range"))
    clash = Supplier.select().where(Supplier.code == supplier.code)
    if supplier.id:
        clash = clash.where(Supplier.id != supplier.id)
    if clash.exists():
        raise InvalidValue("code", _("Supplier code: %(code)s is already used",
                                     code=supplier.code))
    if not supplier.organization_id:
        supplier.organization = _supplier_org(supplier.code, supplier.name)


def create_supplier(code, name, city, service_types, actor=None, **attrs):
    supplier = Supplier(code=code, name=name, city=city, service_types=service_types, **attrs)
    with db.atomic():
        check_supplier(supplier)
        supplier.save(force_insert=True)
        audit.record("create", supplier, None, audit.snapshot(supplier), actor=actor)
    return supplier


def add_supplier_document(supplier, title, stream, filename, *, upload_dir, max_bytes,
                          actor=None, valid_until=None):
    """Keep a qualification document (type and size checked) for the supplier's file."""
    title = (title or "").strip()[:100]
    if not title:
        raise InvalidValue("title", _("Document title: required"))
    with db.atomic():
        stored = uploads.store(stream, filename, upload_dir=upload_dir, max_bytes=max_bytes,
                               label=_("Qualification document"),
                               owner_type="supplier_document",
                               organization=supplier.organization_id, user=actor)
        document = SupplierDocument.create(supplier=supplier, title=title, file=stored,
                                           organization=supplier.organization_id,
                                           valid_until=valid_until,
                                           uploaded_by=actor.id if actor else None)
        uploads.attach(stored, "supplier_document", document)
        audit.record("upload_document", supplier, None, {"document": title,
                                                         "file": stored.original_name},
                     actor=actor)
    return document


# Certification of a supplier's qualification documents: one table of allowed moves.
CERTIFICATION_TRANSITIONS = {
    ("unsubmitted", "submit"): "pending",
    ("rejected", "submit"): "pending",
    ("expired", "submit"): "pending",
    ("pending", "approve"): "approved",
    ("pending", "reject"): "rejected",
    ("approved", "expire"): "expired",
}
CERTIFICATION_ACTIONS = {"submit": _l("submit"), "approve": _l("approve"),
                         "reject": _l("reject"), "expire": _l("expire")}
CERTIFICATION_STATUS_NAMES = {"unsubmitted": _l("Not submitted"), "pending": _l("Pending review"),
                              "approved": _l("Approved"), "rejected": _l("Rejected"),
                              "expired": _l("Expired")}
CERTIFICATE_VALID_DAYS = 365
REMIND_DAYS_BEFORE = 30


def certify(supplier, action, actor, reason="", expires_at=None, now=None):
    """Apply one certification move; an illegal move or missing input changes nothing."""
    now = now or utcnow()
    current = supplier.certification_status
    target = CERTIFICATION_TRANSITIONS.get((current, action))
    if target is None:
        raise InvalidValue("certification_status", _(
            "Certification: cannot %(action)s when the status is %(status)s",
            action=CERTIFICATION_ACTIONS.get(action, action),
            status=CERTIFICATION_STATUS_NAMES[current]))
    values = {"certification_status": target}
    if action == "submit" and not SupplierDocument.select().where(
            SupplierDocument.supplier == supplier.id,
            SupplierDocument.is_deleted == False).exists():  # noqa: E712
        raise InvalidValue("documents", _("Certification: upload at least one qualification "
                                          "document before submitting"))
    if action == "reject":
        values["certification_reason"] = _reason(reason)
    elif action == "approve":
        expires_at = expires_at or now + dt.timedelta(days=CERTIFICATE_VALID_DAYS)
        if expires_at <= now:
            raise InvalidValue("expires_at", _("Certification: the expiry date must be in "
                                               "the future"))
        values.update(certified_at=now, certification_expires_at=expires_at,
                      certification_reason="", certification_reminded_at=None)
    else:
        values["certification_reason"] = (reason or "").strip()[:255]
    with db.atomic():
        moved = Supplier.update(**values).where(
            Supplier.id == supplier.id, Supplier.certification_status == current).execute()
        if not moved:
            raise InvalidValue("certification_status", _(
                "Certification: someone else changed the status first; reload the page"))
        CertificationEvent.create(supplier=supplier, organization=supplier.organization_id,
                                  action=action, from_status=current, to_status=target,
                                  reason=values.get("certification_reason", "") or reason or "",
                                  actor=actor.id if actor else None, at=now)
        audit.record(f"certification_{action}", supplier, {"certification_status": current},
                     {"certification_status": target}, note=reason or "", actor=actor)
    for field, value in values.items():
        setattr(supplier, field, value)
    return supplier


def expire_certifications(now=None):
    """Scheduled job: approved certificates past their expiry date become expired."""
    now = now or utcnow()
    expired = 0
    for supplier in Supplier.select().where(Supplier.certification_status == "approved",
                                            Supplier.certification_expires_at <= now):
        try:
            certify(supplier, "expire", None, "expiry date passed", now=now)
            expired += 1
        except InvalidValue:
            continue  # moved by someone else meanwhile
    return {"expired": expired, "reminded": remind_expiring_certifications(now)}


def remind_expiring_certifications(now=None, days=REMIND_DAYS_BEFORE):
    """Tell a supplier's staff (in the console) once that its certificate expires soon."""
    now = now or utcnow()
    soon = now + dt.timedelta(days=days)
    due = Supplier.select().where(Supplier.certification_status == "approved",
                                  Supplier.certification_expires_at <= soon,
                                  Supplier.certification_reminded_at.is_null())
    reminded = 0
    for supplier in due:
        with db.atomic():
            claimed = Supplier.update(certification_reminded_at=now).where(
                Supplier.id == supplier.id, Supplier.certification_reminded_at.is_null()).execute()
            if not claimed:
                continue
            staff = User.select().where(User.organization == supplier.organization_id,
                                        User.is_deleted == False)  # noqa: E712
            day = supplier.certification_expires_at.date().isoformat()
            for user in staff:
                notify.enqueue("console", user.email,
                               f"资质认证将于 {day} 到期，请及时上传新证件并提交审核。"
                               f" / Your certification expires on {day}: upload new "
                               "documents and submit them.",
                               subject=f"{supplier.code} certification")
            reminded += 1
    return reminded


# ---- reviews and stars ---------------------------------------------------------------
# Stars a review counts for when the customer gave none.
STARS_FOR_RATING = {"good": 5, "neutral": 3, "bad": 2, "complaint": 1}
PRIOR_WEIGHT = 3
REVIEW_TARGET_NAMES = {"supplier": _l("supplier"), "butler": _l("butler")}


def add_review(order_no, target, rating, stars=None, text="", customer=None, at=None):
    """Store a customer's review of an order's supplier or butler (one each per order) and
    refresh the target's stars."""
    order_no = (order_no or "").strip()
    if not order_no:
        raise InvalidValue("order_no", _("Order number: required"))
    if rating not in REVIEW_RATINGS:
        raise InvalidValue("rating", _("Rating: must be good, neutral, bad or complaint"))
    stars = STARS_FOR_RATING[rating] if stars in (None, "") else \
        whole_number(stars, "stars", _("Stars"), 1, 5)
    kind = "butler" if isinstance(target, Butler) else "supplier"
    try:
        with db.atomic():
            review = Review.create(order_no=order_no, target_kind=kind, rating=rating,
                                   stars=stars, text=(text or "").strip(),
                                   customer=customer.id if customer else None,
                                   organization=target.organization_id,
                                   created_at=at or utcnow(),
                                   **{kind: target.id})
            recompute_stars(target)
    except IntegrityError:
        raise InvalidValue("order_no", _(
            "Review: order %(order)s already has a review of its %(kind)s",
            order=order_no, kind=REVIEW_TARGET_NAMES[kind])) from None
    return review


def review_totals(field):
    """SELECT Σ effective stars, COUNT(*) of reviews; group or filter it by `field`."""
    effective = Case(None, [(Review.rating == "complaint", 1)], Review.stars)
    return Review.select(fn.COALESCE(fn.SUM(effective), 0), fn.COUNT(Review.id))


def star_rating(total, count):
    """The formula documented in `recompute_stars`, rounded half up to one decimal."""
    prior = Decimal(str(PRIOR_STARS)) * PRIOR_WEIGHT
    mean = (prior + int(total)) / (PRIOR_WEIGHT + int(count))
    return float(mean.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def recompute_stars(target):
    """Derive a butler's or supplier's star rating from their reviews:

        stars = round((PRIOR_WEIGHT × PRIOR_STARS + Σ effective stars) / (PRIOR_WEIGHT + n), 1)

    where n is the number of reviews and a review's effective stars are the 1–5 stars the
    customer gave, except that a complaint always counts as 1 star. The prior (3 reviews of
    4.0 stars) keeps one early review from deciding a rating: a newcomer shows 4.0, one
    5-star review gives 4.3, one complaint 3.3, and many reviews converge on their mean."""
    field = Review.butler if isinstance(target, Butler) else Review.supplier
    total, count = review_totals(field).where(field == target.id).tuples().get()
    stars = star_rating(total, count)
    type(target).update(stars=stars, review_count=count).where(
        type(target).id == target.id).execute()
    target.stars, target.review_count = stars, count
    return stars
