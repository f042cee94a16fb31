"""User accounts: the one way an account comes to be (`create_user`: the CLI, seed data, the
console's user forms, customer and butler registration and the demo all call it) and the checks
every change of an account's login fields passes."""
import re
import secrets
import uuid

from flask_babel import lazy_gettext as _l
from flask_security.utils import hash_password
from peewee import chunked

from console.common.validators import validate_mobile
from console.db import bulk_insert, db
from console.errors import InputError
from console.models import Organization, Role, User, UserRoles
from console.system import audit, rbac

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
USERNAME = re.compile(r"^[A-Za-z0-9_.\-]{2,64}$")
MIN_PASSWORD = 8


def check_email(email, field="email"):
    email = (email or "").strip()
    if not EMAIL.match(email) or len(email) > 255:
        raise InputError(field, _l("Email: %(email)s is not an email address.", email=email))
    return email


def check_password(password, field="new_password"):
    if len(password or "") < MIN_PASSWORD:
        raise InputError(field, _l("New password: at least 8 characters."))
    return password


def check_login_fields(user, phone_field="phone"):
    """Normalize and check the fields people sign in with (email, username, mobile): well
    formed and used by no other account. Raises InputError naming the field."""
    user.email = check_email(user.email)
    user.username = (user.username or "").strip() or None
    if user.username and not USERNAME.match(user.username):
        raise InputError("username", _l("Account name: 2 to 64 letters, digits, dots, "
                                        "hyphens or underscores."))
    user.phone = validate_mobile(user.phone, phone_field) if user.phone else None
    others = User.select().where(User.id != user.id) if user.id else User.select()
    for field, value, message in (
            ("email", user.email, _l("Email: %(value)s is already registered.", value=user.email)),
            ("username", user.username, _l("Account name: %(value)s is already registered.",
                                           value=user.username)),
            (phone_field, user.phone, _l("Mobile: %(mobile)s is already registered",
                                         mobile=user.phone))):
        column = getattr(User, "phone" if field == phone_field else field)
        if value and others.where(column == value).exists():
            raise InputError(field, message)
    return user


def _role(role):
    if isinstance(role, Role):
        return role
    found = Role.get_or_none(Role.name == role)
    if found is None:
        raise InputError("role", _l("Role: %(code)s does not exist.", code=role))
    return found


def _organization(organization):
    if isinstance(organization, Organization):
        return organization
    if not organization:
        raise InputError("organization", _l(
            "Organization: every user belongs to one organization."))
    found = Organization.get_or_none(Organization.code == organization)
    if found is None:
        raise InputError("organization", _l("Organization: %(code)s does not exist.",
                                            code=organization or "—"))
    return found


def create_user(email, *, roles, organization, password=None, phone=None, full_name="",
                username=None, active=True, locale=None, actor=None, phone_field="phone"):
    """Create an account with `roles` (Role rows or codes) in `organization` (a row or a
    code). Without a password the account gets an unguessable one (app users set theirs by
    SMS). With `actor`, roles the actor could not grant are refused. Nothing is written when
    anything is refused."""
    password = secrets.token_urlsafe(16) if password is None else check_password(password)
    user = User(email=email, phone=phone, username=username, full_name=(full_name or "").strip(),
                organization=_organization(organization), active=active,
                locale=locale or "", fs_uniquifier=uuid.uuid4().hex)
    check_login_fields(user, phone_field)
    role_rows = [_role(role) for role in roles]
    with db.atomic():
        user.password = hash_password(password)
        user.save(force_insert=True)
        rbac.set_user_roles(user, [role.id for role in role_rows], actor=actor)
        audit.record("create", user, None, audit.snapshot(user), actor=actor)
    return user


def set_password(user, password, field="new_password"):
    """A new password; the account's sessions and tokens end with the old one."""
    user.password = hash_password(check_password(password, field))
    user.fs_uniquifier = uuid.uuid4().hex
    return user


def sync_login(user_id, mobile, name, organization=None, phone_field="mobile"):
    """Keep an app account's phone, name (and organization) in step with its profile."""
    user = User.get_by_id(user_id)
    user.phone, user.full_name = mobile, name
    check_login_fields(user, phone_field)
    values = {"phone": user.phone, "full_name": name}
    if organization is not None:
        values["organization"] = organization
    User.update(**values).where(User.id == user_id).execute()


# ---- many at once (the demo generator) ----------------------------------------------------
def app_login_email(role_code, mobile):
    """Customers and butlers sign in by mobile; their account still needs a unique email."""
    return f"{role_code}-{mobile}@app.invalid"


def account_row(email, mobile, name, organization_id, password_hash, created_at):
    """One row for `insert_accounts`: the fields `create_user` would set, with a password
    hashed once for the whole batch (argon2 per row would take minutes)."""
    return {"email": email, "phone": mobile, "full_name": name, "organization": organization_id,
            "password": password_hash, "fs_uniquifier": uuid.uuid4().hex,
            "created_at": created_at}


def insert_accounts(rows, role_code, batch=500):
    """Bulk-create accounts from generated rows already known to be valid and unique (the
    demo); returns {phone: user id}."""
    bulk_insert(User, rows)
    ids = {}
    for phones in chunked([row["phone"] for row in rows], batch):
        ids.update(User.select(User.phone, User.id).where(User.phone.in_(phones)).tuples())
    role = _role(role_code)
    bulk_insert(UserRoles, [{"user": uid, "role": role.id} for uid in ids.values()])
    return ids
