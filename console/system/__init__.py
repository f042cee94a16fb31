"""System management (plan 3.2): models, RBAC with data scope and the menu tree, user accounts,
login security (lockout, captcha, SMS recovery), the audit trail, the notification outbox and
seed data."""
from console.common.exports import lazy_exports

__all__, __getattr__ = lazy_exports(__name__, {
    "users": ["check_login_fields", "create_user", "set_password"],
    "rbac": ["can", "deactivate_users", "grants_for", "scoped", "set_menu_hidden",
             "set_user_roles"],
    "audit": ["record", "snapshot"],
    "notify": ["JOBS", "deliver_pending", "enqueue"],
})
