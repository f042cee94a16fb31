"""The audit log in words: what each recorded action, object type and field is called in the
page's language, and a record's before/after as the fields that changed, their values shown
as elsewhere in the console (yuan, local time, yes/no)."""
import datetime as dt
import json
import re

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup

from console.common.clock import local_time
from console.common.money import format_yuan
from console.orders.states import ACTION_LABELS as ORDER_ACTIONS
from console.orders.states import STATE_LABELS
from console.views.labels import LABELS

ACTIONS = {
    "create": _l("Created"), "update": _l("Changed"), "delete": _l("Deleted"),
    "remove": _l("Removed"), "import": _l("Imported"), "update_content": _l("Content changed"),
    "set_resources": _l("Resources of the permission set"),
    "set_permissions": _l("Permissions of the role set"),
    "set_roles": _l("Roles of the account set"), "deactivate": _l("Account deactivated"),
    "unlock": _l("Account unlocked"), "lock": _l("Account locked"),
    "password_reset": _l("Password reset by SMS"), "reset_code_sent": _l("SMS code sent"),
    "move": _l("Moved in the menu"), "set_vip": _l("VIP membership set"),
    "reverse_vip": _l("VIP time taken back by a refund"),
    "set_status": _l("Status set"), "set_refusal_count": _l("Refusal count set"),
    "deduct_licence_points": _l("Licence points deducted"),
    "restore_licence_points": _l("Licence points restored"),
    "upload_document": _l("Document uploaded"), "handle_complaint": _l("Complaint handled"),
    "follow_up": _l("Follow-up visit recorded"), "book_appointment": _l("Appointment booked"),
    "open_slots": _l("Time slots opened"), "verify_service_code": _l("Service code checked"),
    "set_param": _l("Parameter set"), "withdraw_param": _l("Parameter value withdrawn"),
    "review_submit": _l("Item submitted for review"), "review_approve": _l("Item approved"),
    "review_reject": _l("Item rejected"), "review_revise": _l("Item back to draft (changed)"),
    "certification_submit": _l("Certification submitted"),
    "certification_approve": _l("Certification approved"),
    "certification_reject": _l("Certification rejected"),
    "certification_expire": _l("Certification expired"),
    "captcha": _l("Wrong captcha"), "slowed": _l("Logins slowed down"),
    "locked": _l("Login refused: locked"), "ip_throttled": _l("Too many logins from this IP"),
    "app_only": _l("App account refused at the console"), "ok": _l("Signed in"),
}
OBJECTS = {
    "User": _l("Account"), "Role": _l("Role"), "Permission": _l("Permission"),
    "Resource": _l("Resource"), "Organization": _l("Organization"),
    "MenuItem": _l("Menu entry"), "Order": _l("Order"), "Customer": _l("Customer"),
    "Vehicle": _l("Vehicle"), "Butler": _l("Butler"), "Supplier": _l("Supplier"),
    "ServiceItem": _l("Service item"), "PricingRuleSet": _l("Pricing rule"),
    "CarModel": _l("Car model"), "MessageTemplate": _l("Message template"),
    "Complaint": _l("Complaint"), "FollowUpVisit": _l("Follow-up visit"),
    "Appointment": _l("Appointment"), "SupplierTimeSlot": _l("Time slot"),
    "PlatformParam": _l("Parameter"), "ParamValue": _l("Parameter"),
}
FIELDS = dict(
    LABELS, estimate_fen=_l("Estimate"), final_fen=_l("Final price"), paid_fen=_l("Amount paid"),
    discount_fen=_l("Discount"), butler_fee_fen=_l("Butler fee"),
    delivery_fee_fen=_l("Delivery fee"), bonus_fen=_l("Bonus"), butler=_l("Butler"),
    level=_l("Level"), vip_until=_l("VIP until"), password=_l("Password"),
    review_status=_l("Review status"), review_reason=_l("Review note"),
    certification_status=_l("Certification"), licence_points=_l("Licence points"),
    refusal_count=_l("Refusals"), mobile=_l("Mobile"), plate=_l("Plate"), vin=_l("VIN"),
    labour_price_fen=_l("Labour price"), parts=_l("Parts lines"), car_models=_l("Car models"),
    value=_l("Value"), effective_from=_l("Effective from"), document=_l("Document"),
    file=_l("File"), updated_at=_l("Updated at"), code_matched=_l("Code matched"),
    fs_uniquifier=_l("Sessions"), name_pinyin=_l("Pinyin"), order_no=_l("Order number"),
    order_type=_l("Order type"), customer=_l("Customer"), customer_user=_l("Customer account"),
    vehicle=_l("Vehicle"), supplier=_l("Supplier"), supplier_org=_l("Supplier organization"),
    city=_l("City"), service_code=_l("Service code"), is_open=_l("Open"),
    needs_butler=_l("Needs a butler"), details=_l("Details"), placed_at=_l("Placed at"),
    paid_at=_l("Paid at"), closed_at=_l("Closed at"), grab_deadline=_l("Grab deadline"),
    pricing_rule_versions=_l("Pricing rule versions"), user=_l("User"),
)
# foreign keys: the row they point at, by id
REFERENCES = {"city", "customer", "customer_user", "vehicle", "supplier", "supplier_org",
              "butler", "organization", "parent", "resource", "user", "actor", "created_by",
              "reviewed_by"}
ISO_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")
LONGEST = 80  # characters of one value in the list; the rest is in the tooltip


def action_label(code):
    label = ACTIONS.get(code) or ORDER_ACTIONS.get(code)
    return label if label is not None else code


def object_label(code):
    return OBJECTS.get(code, code)


def action_options():
    """(code, label) of every action, for the filter."""
    codes = sorted(set(ACTIONS) | set(ORDER_ACTIONS))
    return [(code, action_label(code)) for code in codes]


def object_options():
    return list(OBJECTS.items())


def changes(before, after, plain=False):
    """[(field label, before, after)] for the fields whose value differs (a record created or
    deleted: its non-empty fields); values as shown elsewhere, HTML unless `plain`."""
    before = before if isinstance(before, dict) else {}
    after = after if isinstance(after, dict) else {}
    rows = []
    for key in dict.fromkeys([*before, *after]):
        old, new = before.get(key), after.get(key)
        if old == new or (old in (None, "") and new in (None, "")):
            continue
        rows.append((str(FIELDS.get(key, key)), shown(key, old, plain), shown(key, new, plain)))
    return rows


def shown(key, value, plain=False):
    text = _text(key, value)
    if plain or len(text) <= LONGEST:
        return text
    return Markup('<span title="%s">%s…</span>') % (text, text[:LONGEST])


def _text(key, value):
    if value is None or value == "":
        return "—"
    if key in REFERENCES and isinstance(value, int) and not isinstance(value, bool):
        return f"#{value}"
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if isinstance(value, int) and key.endswith("_fen"):
        return format_yuan(value)
    if isinstance(value, str) and ISO_TIME.match(value):
        try:
            return local_time(dt.datetime.fromisoformat(value), with_seconds=True)
        except ValueError:
            return value
    if key == "status" and isinstance(value, str):
        return str(STATE_LABELS.get(value, value))
    if isinstance(value, list):
        return ", ".join(str(item) for item in value) or "—"
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)
