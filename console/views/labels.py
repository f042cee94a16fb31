"""Translatable labels for model columns and form fields, shared by every console view."""
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

LABELS = {
    "id": _l("ID"), "code": _l("Code"), "name": _l("Name"), "name_en": _l("English name"),
    "title": _l("Title (Chinese)"), "title_en": _l("Title (English)"),
    "kind": _l("Kind"), "parent": _l("Parent"), "path": _l("Path"), "sort": _l("Sort order"),
    "is_active": _l("Active"), "active": _l("Active"), "description": _l("Description"),
    "endpoint": _l("Endpoint"), "url": _l("URL"), "data_scope": _l("Data scope"),
    "email": _l("Email"), "username": _l("Account name"), "phone": _l("Mobile"),
    "full_name": _l("Full name"), "organization": _l("Organization"), "locale": _l("Language"),
    "roles": _l("Roles"), "permissions": _l("Permissions"), "resources": _l("Resources"),
    "new_password": _l("New password"), "last_login_at": _l("Last login"),
    "current_login_at": _l("Current login"), "login_count": _l("Logins"),
    "locked_until": _l("Locked until"), "created_at": _l("Created at"),
    "is_deleted": _l("Deleted"), "icon": _l("Icon"), "resource": _l("Page"),
    "is_hidden": _l("Hidden"), "at": _l("Time"), "actor": _l("Actor"),
    "actor_name": _l("Actor"), "ip": _l("IP address"), "action": _l("Action"),
    "object_type": _l("Object type"), "object_id": _l("Object ID"),
    "object_repr": _l("Object"), "before": _l("Before"), "after": _l("After"),
    "note": _l("Note"), "identity": _l("Account entered"), "user": _l("User"),
    "success": _l("Succeeded"), "reason": _l("Result"), "user_agent": _l("Browser"),
    "body": _l("Text"), "channel": _l("Channel"), "recipient": _l("Recipient"),
    "subject": _l("Subject"), "status": _l("Status"), "attempts": _l("Attempts"),
    "next_attempt_at": _l("Next attempt"), "last_error": _l("Last error"),
    "sent_at": _l("Sent at"), "outbox": _l("Outbox message"),
    "resource.code": _l("Page"), "parent.title": _l("Parent"),
    "permission_count": _l("Permissions"), "user_count": _l("Users"),
    "resource_count": _l("Resources"), "role_count": _l("Roles"),
}

DATA_SCOPE_LABELS = {
    "all": _l("All data"), "org_and_below": _l("Own organization and below"),
    "org": _l("Own organization only"), "own": _l("Own records only"),
}
RESOURCE_KIND_LABELS = {"menu": _l("Menu"), "page": _l("Page"), "element": _l("Button/action"),
                        "api": _l("API")}


def localized(text, text_en):
    """A name stored in Chinese with an English twin: the twin when the page is in English."""
    return text_en if text_en and str(get_locale()) == "en" else text
