"""Service catalogue operations: create and revise a supplier's items, the platform review
(one transition table), race-free item codes, what may be ordered, and pricing rule versions.
Plain functions for views, imports, the API and the demo generator; no Flask requests."""
import datetime as dt

from flask_babel import lazy_gettext as _l
from peewee import JOIN, IntegrityError

from console.catalogue import pricing_params
from console.common.moves import StateTable
from console.common.tx import writing
from console.db import db, utcnow
from console.errors import InputError
from console.models import (
    PRICING_KINDS,
    CarModel,
    PricingRuleSet,
    ServiceItem,
    ServiceItemCarModel,
    ServiceItemPart,
    Supplier,
)
from console.orders.types import SERVICE_TYPES
from console.system import audit

MAX_SEQ = 9999
MAX_PRICE_FEN = 100_000_000
# (status, action) -> new status. Nothing else assigns ServiceItem.review_status.
TRANSITIONS = {
    ("draft", "submit"): "pending",
    ("rejected", "submit"): "pending",
    ("pending", "approve"): "approved",
    ("pending", "reject"): "rejected",
    # a change of name, type, price, parts or car models needs a new review
    ("pending", "revise"): "draft",
    ("approved", "revise"): "draft",
    ("rejected", "revise"): "draft",
}
ACTION_LABELS = {"submit": _l("submit for review"), "approve": _l("approve"),
                 "reject": _l("reject"), "revise": _l("revise")}
STATUS_LABELS = {"draft": _l("Draft"), "pending": _l("Pending review"),
                 "approved": _l("Approved"), "rejected": _l("Rejected")}


class CatalogueError(InputError):
    """A refused catalogue change; `field` is the form field at fault."""


# ---- review transitions -------------------------------------------------------------------
def _refused(item, action):
    return CatalogueError("review_status", _l(
        "Cannot %(action)s item %(code)s: it is %(status)s.",
        action=ACTION_LABELS.get(action, action), code=item.code,
        status=STATUS_LABELS.get(item.review_status, item.review_status)))


def _overtaken(item, action):
    return CatalogueError("review_status", _l(
        "Item %(code)s was changed by someone else meanwhile; reload and try again.",
        code=item.code))


REVIEW = StateTable("review_status", TRANSITIONS, _refused, _overtaken)


def allowed_actions(item):
    return [action for action in REVIEW.actions(item) if action != "revise"]


def transition(item, action, actor=None, reason=""):
    """Apply one review move; an illegal move or a concurrent change raises CatalogueError."""
    REVIEW.target(item, action)
    reason = (reason or "").strip()
    if action == "reject" and not reason:
        raise CatalogueError("reason", _l("Reason: a rejection needs a reason the supplier "
                                          "can act on."))
    if len(reason) > 500:
        raise CatalogueError("reason", _l("Reason: at most 500 characters."))
    values = {"updated_at": utcnow()}
    if action in ("approve", "reject"):
        values.update(reviewed_by=actor.id if actor else None, reviewed_at=utcnow(),
                      review_reason=reason)
    elif action == "submit":
        values["review_reason"] = ""
    with db.atomic():
        before, target = REVIEW.apply(item, action, values)
        audit.record(f"review_{action}", item, {"review_status": before},
                     {"review_status": target, "review_reason": values.get("review_reason", "")},
                     note=reason, actor=actor)
    return item


def submit(item, actor=None):
    return transition(item, "submit", actor)


def approve(item, actor=None):
    return transition(item, "approve", actor)


def reject(item, actor=None, reason=""):
    return transition(item, "reject", actor, reason)


# ---- item content ---------------------------------------------------------------------------
def check_price(field, value):
    if isinstance(value, bool) or not isinstance(value, int):
        raise CatalogueError(field, _l("%(field)s: must be whole fen, not %(value)r.",
                                       field=field, value=value))
    if not 0 <= value <= MAX_PRICE_FEN:
        raise CatalogueError(field, _l("%(field)s: must be between ¥0 and ¥1,000,000.",
                                       field=field))
    return value


def check_item(supplier, name, order_type, labour_price_fen):
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise CatalogueError("name", _l("Name: 1 to 100 characters."))
    if order_type not in SERVICE_TYPES:
        raise CatalogueError("order_type", _l("Order type: unknown type %(value)r.",
                                              value=order_type))
    if supplier.service_types and order_type not in supplier.service_types:
        raise CatalogueError("order_type", _l(
            "Order type: supplier %(supplier)s does not offer %(value)s.",
            supplier=supplier.code, value=order_type))
    check_price("labour_price_fen", labour_price_fen)
    return name


def check_parts(lines):
    """Normalize parts lines (dicts with name, part_no, quantity, unit_price_fen)."""
    clean = []
    for number, line in enumerate(lines, start=1):
        name = (line.get("name") or "").strip()
        if not name or len(name) > 100:
            raise CatalogueError("parts", _l("Parts line %(n)s: a name of 1 to 100 characters.",
                                             n=number))
        quantity = line.get("quantity")
        if isinstance(quantity, bool) or not isinstance(quantity, int) or not \
                1 <= quantity <= 1000:
            raise CatalogueError("parts", _l("Parts line %(n)s: quantity is a whole number from "
                                             "1 to 1000.", n=number))
        check_price("unit_price_fen", line.get("unit_price_fen"))
        clean.append({"name": name, "part_no": (line.get("part_no") or "").strip()[:60],
                      "quantity": quantity, "unit_price_fen": line["unit_price_fen"]})
    return clean


def check_car_models(ids):
    ids = sorted({int(i) for i in ids or ()})
    found = {m.id for m in CarModel.select(CarModel.id).where(CarModel.id.in_(ids))} \
        if ids else set()
    if set(ids) - found:
        raise CatalogueError("car_models", _l("Car models: %(ids)s do not exist.",
                                              ids=sorted(set(ids) - found)))
    return ids


def lock_supplier(supplier_id):
    """Serialize code allocation per supplier: a no-op UPDATE takes the row (PostgreSQL) or
    database (SQLite) write lock before anything is read."""
    Supplier.update(code=Supplier.code).where(Supplier.id == supplier_id).execute()


def next_item_code(supplier):
    """The supplier's next free code; call under `lock_supplier` inside the transaction."""
    last = ServiceItem.select(ServiceItem.code_seq).where(
        ServiceItem.supplier == supplier.id).order_by(ServiceItem.code_seq.desc()).first()
    seq = (last.code_seq if last else 0) + 1
    if seq > MAX_SEQ:
        raise CatalogueError("code", _l("Supplier %(code)s has used all %(max)s item codes.",
                                        code=supplier.code, max=MAX_SEQ))
    return seq, f"{supplier.code}{seq:04d}"


def assign_code(item, supplier):
    lock_supplier(supplier.id)
    item.code_seq, item.code = next_item_code(supplier)


def create_item(supplier, name, order_type, labour_price_fen, parts=(), car_model_ids=(),
                actor=None):
    """A new draft item with the supplier's next code; parts and car models in one go."""
    name = check_item(supplier, name, order_type, labour_price_fen)
    parts, car_model_ids = check_parts(parts), check_car_models(car_model_ids)
    with writing():
        item = ServiceItem(supplier=supplier.id, organization=supplier.organization_id,
                           name=name, order_type=order_type, labour_price_fen=labour_price_fen,
                           created_by=actor.id if actor else None)
        assign_code(item, supplier)
        item.save(force_insert=True)
        set_parts(item, parts)
        set_car_models(item, car_model_ids)
        audit.record("create", item, None, content_snapshot(item), actor=actor)
    return item


def content_snapshot(item):
    return dict(audit.snapshot(item), parts=[
        {k: p[k] for k in ("name", "part_no", "quantity", "unit_price_fen")}
        for p in ServiceItemPart.select().where(ServiceItemPart.item == item.id)
        .order_by(ServiceItemPart.id).dicts()], car_models=sorted(item.car_model_ids()))


def set_parts(item, lines):
    ServiceItemPart.delete().where(ServiceItemPart.item == item.id).execute()
    if lines:
        ServiceItemPart.insert_many([dict(line, item=item.id) for line in lines]).execute()


def set_car_models(item, ids):
    ServiceItemCarModel.delete().where(ServiceItemCarModel.item == item.id).execute()
    if ids:
        ServiceItemCarModel.insert_many(
            [{"item": item.id, "car_model": i} for i in ids]).execute()


def revise_item(item, name, order_type, labour_price_fen, parts, car_model_ids, actor=None):
    """Replace an item's content; a reviewed or pending item goes back to draft."""
    name = check_item(item.supplier, name, order_type, labour_price_fen)
    parts, car_model_ids = check_parts(parts), check_car_models(car_model_ids)
    with db.atomic():
        before = content_snapshot(item)
        item.name, item.order_type, item.labour_price_fen = name, order_type, labour_price_fen
        item.updated_at = utcnow()
        item.save()
        set_parts(item, parts)
        set_car_models(item, car_model_ids)
        after = content_snapshot(item)
        audit.record("update", item, before, after, actor=actor)
        mark_revised(item, before, after, actor)
    return item


def mark_revised(item, before, after, actor=None):
    """Send an item back to draft when its priced content changed since review."""
    keys = ("name", "order_type", "labour_price_fen", "parts", "car_models")
    if item.review_status != "draft" and any(before.get(k) != after.get(k) for k in keys):
        transition(item, "revise", actor)


# ---- what may be ordered ------------------------------------------------------------------
def orderable_items(order_type, car_model=None):
    """Approved, active items of active suppliers for `order_type` that fit `car_model`
    (items listing no car models fit every model; without a car model only those)."""
    fits = ServiceItemCarModel.select(ServiceItemCarModel.item).where(
        ServiceItemCarModel.car_model == (car_model.id if car_model else None))
    restricted = ServiceItemCarModel.select(ServiceItemCarModel.item)
    return (ServiceItem.select(ServiceItem, Supplier).join(Supplier, JOIN.INNER)
            .where(ServiceItem.order_type == order_type,
                   ServiceItem.review_status == "approved",
                   ServiceItem.is_active == True,  # noqa: E712
                   Supplier.is_active == True,  # noqa: E712
                   ServiceItem.id.in_(fits) | ServiceItem.id.not_in(restricted))
            .order_by(ServiceItem.code))


def is_orderable(item, car_model=None):
    return orderable_items(item.order_type, car_model).where(
        ServiceItem.id == item.id).exists()


# ---- pricing rule versions ----------------------------------------------------------------
def create_rule_set(kind, parameters, effective_from, note="", actor=None):
    """A new version of `kind`; its parameters are checked against the kind's schema."""
    if kind not in PRICING_KINDS:
        raise CatalogueError("kind", _l("Kind: unknown pricing kind %(kind)r.", kind=kind))
    pricing_params.validate(kind, parameters)
    if not isinstance(effective_from, dt.datetime):
        raise CatalogueError("effective_from", _l("Effective from: a date and time is needed."))
    for _attempt in range(5):  # two editors saving the same kind at once: retry the version
        try:
            with writing():
                rule = PricingRuleSet.create(
                    kind=kind, version=PricingRuleSet.next_version(kind), parameters=parameters,
                    effective_from=effective_from, note=(note or "").strip(),
                    created_by=actor.id if actor else None)
                audit.record("create", rule, None, audit.snapshot(rule), actor=actor)
            return rule
        except IntegrityError:
            continue
    raise CatalogueError("kind", _l("Another version was saved at the same moment; try again."))


def load_default_rules(rows):
    """Reference data: version 1 of each kind that has no version yet (idempotent)."""
    created = []
    for row in rows:
        if PricingRuleSet.select().where(PricingRuleSet.kind == row["kind"]).exists():
            continue
        effective = dt.datetime.fromisoformat(row["effective_from"])  # may carry +08:00
        if effective.tzinfo is not None:
            effective = effective.astimezone(dt.timezone.utc).replace(tzinfo=None)
        pricing_params.validate(row["kind"], row["parameters"])
        created.append(PricingRuleSet.create(kind=row["kind"], version=1,
                                             parameters=row["parameters"],
                                             effective_from=effective, note=row.get("note", "")))
    return created
