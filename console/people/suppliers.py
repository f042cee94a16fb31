"""Suppliers: creation with their own organization node, qualification documents and the
certification workflow with its expiry job and reminders."""
import datetime as dt
import re

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from console.common.moves import StateTable
from console.common.validators import InvalidValue, validate_mobile
from console.db import db, utcnow
from console.models import CertificationEvent, Organization, Supplier, SupplierDocument, User
from console.orders.types import SERVICE_TYPES
from console.people import uploads
from console.people.checks import SUPPLIERS_ORG, pinyin_key, reason_text, require_city
from console.system import audit, notify, params

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
    require_city(supplier.city if supplier.city_id else None, "city")
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


def _refused(supplier, action):
    return InvalidValue("certification_status", _(
        "Certification: cannot %(action)s when the status is %(status)s",
        action=CERTIFICATION_ACTIONS.get(action, action),
        status=CERTIFICATION_STATUS_NAMES[supplier.certification_status]))


def _overtaken(supplier, action):
    return InvalidValue("certification_status", _(
        "Certification: someone else changed the status first; reload the page"))


CERTIFICATION = StateTable("certification_status", CERTIFICATION_TRANSITIONS, _refused,
                           _overtaken)


def certify(supplier, action, actor, reason="", expires_at=None, now=None):
    """Apply one certification move; an illegal move or missing input changes nothing."""
    now = now or utcnow()
    CERTIFICATION.target(supplier, action)
    values = {}
    if action == "submit" and not SupplierDocument.select().where(
            SupplierDocument.supplier == supplier.id,
            SupplierDocument.is_deleted == False).exists():  # noqa: E712
        raise InvalidValue("documents", _("Certification: upload at least one qualification "
                                          "document before submitting"))
    if action == "reject":
        values["certification_reason"] = reason_text(reason)
    elif action == "approve":
        expires_at = expires_at or now + dt.timedelta(days=params.param("certification.valid_days"))
        if expires_at <= now:
            raise InvalidValue("expires_at", _("Certification: the expiry date must be in "
                                               "the future"))
        values.update(certified_at=now, certification_expires_at=expires_at,
                      certification_reason="", certification_reminded_at=None)
    else:
        values["certification_reason"] = (reason or "").strip()[:255]
    with db.atomic():
        current, target = CERTIFICATION.apply(supplier, action, values)
        CertificationEvent.create(supplier=supplier, organization=supplier.organization_id,
                                  action=action, from_status=current, to_status=target,
                                  reason=values.get("certification_reason", "") or reason or "",
                                  actor=actor.id if actor else None, at=now)
        audit.record(f"certification_{action}", supplier, {"certification_status": current},
                     {"certification_status": target}, note=reason or "", actor=actor)
    return supplier


def expire_certifications(now=None):
    """Job: approved certificates past their expiry date become expired; reminders go out
    before the date."""
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


def remind_expiring_certifications(now=None, days=None):
    """Tell a supplier's staff (in the console) once that its certificate expires soon: `days`
    before (参数设置 certification.remind_days unless given)."""
    now = now or utcnow()
    soon = now + dt.timedelta(days=days if days is not None
                              else params.param("certification.remind_days"))
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


JOBS = {"certifications": (expire_certifications, 3600)}  # name: (function, every N seconds)
