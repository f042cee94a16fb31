"""System area: organizations, RBAC, users, menus, audit, login history, messaging, schema."""
from flask_security import RoleMixin, UserMixin
from peewee import BooleanField, CharField, DateTimeField, ForeignKeyField, IntegerField, TextField

from console.db import BaseModel, JSONField, utcnow

__all__ = [
    "DATA_SCOPES",
    "RESOURCE_KINDS",
    "SchemaVersion",
    "Organization",
    "Resource",
    "Permission",
    "PermissionResource",
    "Role",
    "RolePermission",
    "User",
    "UserRoles",
    "RbacVersion",
    "MenuItem",
    "AuditLog",
    "LoginEvent",
    "MessageTemplate",
    "Outbox",
    "SandboxSms",
    "PasswordResetCode",
    "JobLease",
    "ParamValue",
    "SYSTEM_MODELS",
]

DATA_SCOPES = ("all", "org_and_below", "org", "own")
RESOURCE_KINDS = ("menu", "page", "element", "api")


class SchemaVersion(BaseModel):
    version = IntegerField(primary_key=True)
    name = CharField()
    applied_at = DateTimeField(default=utcnow)


class Organization(BaseModel):
    """A node of the organization tree; `path` is '/1/4/9/' so a subtree is one LIKE."""
    code = CharField(max_length=40, unique=True)
    name = CharField(max_length=100)
    name_en = CharField(max_length=100, default="")
    kind = CharField(max_length=20, default="department")  # platform, city, team, supplier, ...
    parent = ForeignKeyField("self", null=True, backref="children", on_delete="RESTRICT")
    path = CharField(max_length=500, default="/", index=True)
    sort = IntegerField(default=0)
    is_active = BooleanField(default=True)

    scope_org = "id"  # data scope: a user sees their organization (and below)

    def __str__(self):
        return self.name

    def ancestors_and_self_ids(self):
        return [int(p) for p in self.path.strip("/").split("/") if p]

    def subtree(self):
        return Organization.select().where(Organization.path.startswith(self.path))


class Resource(BaseModel):
    code = CharField(max_length=160, unique=True)
    name = CharField(max_length=160)
    kind = CharField(max_length=10, choices=[(k, k) for k in RESOURCE_KINDS])
    endpoint = CharField(max_length=160, default="")
    url = CharField(max_length=255, default="")
    parent = ForeignKeyField("self", null=True, backref="children", on_delete="SET NULL")
    is_active = BooleanField(default=True)  # false when its view no longer exists

    def __str__(self):
        return f"{self.name} ({self.code})"


class Permission(BaseModel):
    code = CharField(max_length=80, unique=True)
    name = CharField(max_length=100)
    name_en = CharField(max_length=100, default="")
    description = TextField(default="")

    def __str__(self):
        return self.name


class PermissionResource(BaseModel):
    permission = ForeignKeyField(Permission, backref="resource_links", on_delete="CASCADE")
    resource = ForeignKeyField(Resource, backref="permission_links", on_delete="CASCADE")

    class Meta:
        indexes = ((("permission", "resource"), True),)


class Role(BaseModel, RoleMixin):
    name = CharField(max_length=80, unique=True)  # the role code, e.g. "dispatcher"
    title = CharField(max_length=100)
    title_en = CharField(max_length=100, default="")
    description = TextField(default="")
    data_scope = CharField(max_length=20, default="own",
                           choices=[(s, s) for s in DATA_SCOPES])
    permissions = TextField(null=True)  # Flask-Security's own string permissions (unused)
    update_datetime = DateTimeField(default=utcnow)

    def __str__(self):
        return self.title or self.name


class RolePermission(BaseModel):
    role = ForeignKeyField(Role, backref="permission_links", on_delete="CASCADE")
    permission = ForeignKeyField(Permission, backref="role_links", on_delete="CASCADE")

    class Meta:
        indexes = ((("role", "permission"), True),)


class User(BaseModel, UserMixin):
    email = CharField(max_length=255, unique=True)
    username = CharField(max_length=64, unique=True, null=True)
    phone = CharField(max_length=20, unique=True, null=True)
    full_name = CharField(max_length=100, default="")
    password = CharField(max_length=255, null=True)
    active = BooleanField(default=True)
    fs_uniquifier = CharField(max_length=64, unique=True)
    organization = ForeignKeyField(Organization, backref="users", on_delete="RESTRICT")
    locale = CharField(max_length=16, default="")
    confirmed_at = DateTimeField(null=True)
    last_login_at = DateTimeField(null=True)
    current_login_at = DateTimeField(null=True)
    last_login_ip = CharField(max_length=64, null=True)
    current_login_ip = CharField(max_length=64, null=True)
    login_count = IntegerField(default=0)
    locked_until = DateTimeField(null=True)
    is_deleted = BooleanField(default=False)
    created_at = DateTimeField(default=utcnow)
    updated_at = DateTimeField(default=utcnow, index=True)  # the sync API's cursor

    scope_org, scope_owner = "organization", "id"
    NOT_A_CHANGE = {"last_login_at", "current_login_at", "last_login_ip", "current_login_ip",
                    "login_count", "locked_until", "updated_at"}

    def save(self, *args, **kwargs):
        if self._dirty - self.NOT_A_CHANGE:  # logins are not changes an outside system syncs
            self.updated_at = utcnow()
        return super().save(*args, **kwargs)

    def __str__(self):
        return self.full_name or self.username or self.email

    def get_id(self):
        """Flask-Login's session id (peewee's get_id would leak the row id into sessions)."""
        return str(self.fs_uniquifier)

    def is_locked(self, form_error=None):
        from console.system import accounts
        return accounts.is_locked_out(self, form_error)


class UserRoles(BaseModel):
    """Link table; Flask-Security reads `name` and `get_permissions()` through it."""
    user = ForeignKeyField(User, backref="roles", on_delete="CASCADE")
    role = ForeignKeyField(Role, backref="users", on_delete="CASCADE")

    class Meta:
        indexes = ((("user", "role"), True),)

    @property
    def name(self):
        return self.role.name

    def get_permissions(self):
        return self.role.get_permissions()


class RbacVersion(BaseModel):
    """One row; bumped by every RBAC/menu change so each worker drops its cache."""
    id = IntegerField(primary_key=True, default=1)
    version = IntegerField(default=1)


class MenuItem(BaseModel):
    key = CharField(max_length=80, unique=True, null=True)  # set on seeded nodes
    parent = ForeignKeyField("self", null=True, backref="children", on_delete="RESTRICT")
    title = CharField(max_length=100)
    title_en = CharField(max_length=100, default="")
    icon = CharField(max_length=60, default="")
    sort = IntegerField(default=0)
    resource = ForeignKeyField(Resource, null=True, backref="menu_items", on_delete="SET NULL")
    is_hidden = BooleanField(default=False)

    def __str__(self):
        return self.title


class AuditLog(BaseModel):
    """Append-only record of every change made through the console and every RBAC action."""
    at = DateTimeField(default=utcnow, index=True)
    actor = ForeignKeyField(User, null=True, backref="audit_entries", on_delete="SET NULL")
    actor_name = CharField(max_length=255, default="")
    ip = CharField(max_length=64, default="")
    action = CharField(max_length=40, index=True)  # create, update, delete, login, assign, ...
    object_type = CharField(max_length=60, index=True)
    object_id = CharField(max_length=64, default="", index=True)
    object_repr = CharField(max_length=255, default="")
    before = JSONField(null=True)
    after = JSONField(null=True)
    note = TextField(default="")


class LoginEvent(BaseModel):
    at = DateTimeField(default=utcnow, index=True)
    identity = CharField(max_length=255, index=True)
    user = ForeignKeyField(User, null=True, backref="login_events", on_delete="SET NULL")
    ip = CharField(max_length=64, default="", index=True)
    success = BooleanField(default=False)
    reason = CharField(max_length=40, default="")  # ok, bad_password, no_user, captcha, locked
    user_agent = CharField(max_length=255, default="")


class MessageTemplate(BaseModel):
    code = CharField(max_length=60)  # e.g. "password_reset_sms"
    locale = CharField(max_length=16)
    body = TextField()  # str.format placeholders, e.g. {code} {minutes}

    class Meta:
        indexes = ((("code", "locale"), True),)


class Outbox(BaseModel):
    """Messages queued inside a transaction and delivered after commit, with retries."""
    channel = CharField(max_length=20, index=True)  # sms, console, ...
    recipient = CharField(max_length=255)
    subject = CharField(max_length=255, default="")
    body = TextField()
    status = CharField(max_length=12, default="pending", index=True)  # pending, sent, failed
    attempts = IntegerField(default=0)
    next_attempt_at = DateTimeField(default=utcnow)
    last_error = TextField(default="")
    created_at = DateTimeField(default=utcnow)
    sent_at = DateTimeField(null=True)


class SandboxSms(BaseModel):
    """What the sandbox SMS gateway 'delivered': visible in the console, never sent."""
    at = DateTimeField(default=utcnow, index=True)
    phone = CharField(max_length=20, index=True)
    body = TextField()
    outbox = ForeignKeyField(Outbox, null=True, on_delete="SET NULL")


class PasswordResetCode(BaseModel):
    user = ForeignKeyField(User, backref="reset_codes", on_delete="CASCADE")
    code_hash = CharField(max_length=128)
    created_at = DateTimeField(default=utcnow)
    expires_at = DateTimeField()
    attempts = IntegerField(default=0)
    used_at = DateTimeField(null=True)


class JobLease(BaseModel):
    """A database lease: the one process holding it runs the scheduled jobs."""
    name = CharField(max_length=60, primary_key=True)
    holder = CharField(max_length=120, default="")
    expires_at = DateTimeField(default=utcnow)
    last_run_at = DateTimeField(null=True)


class ParamValue(BaseModel):
    """A platform parameter's value for one scope, in force from `effective_from` until a later
    one of the same scope; withdrawn values (only before they take effect) are kept."""
    key = CharField(max_length=80)
    city = ForeignKeyField(Organization, null=True, backref="+", on_delete="RESTRICT")
    order_type = CharField(max_length=30, default="")
    value = JSONField()
    effective_from = DateTimeField()
    note = CharField(max_length=255, default="")
    created_by = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    created_at = DateTimeField(default=utcnow)
    withdrawn_at = DateTimeField(null=True)
    withdrawn_by = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")

    class Meta:
        indexes = ((("key", "effective_from"), False),)


SYSTEM_MODELS = [SchemaVersion, Organization, Resource, Permission, PermissionResource, Role,
                 RolePermission, User, UserRoles, RbacVersion, MenuItem, AuditLog, LoginEvent,
                 MessageTemplate, Outbox, SandboxSms, PasswordResetCode, JobLease, ParamValue]
