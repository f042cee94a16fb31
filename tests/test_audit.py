"""Every change leaves an audit row — who, from where, on what, before and after — and the
audit log itself can be read and filtered but never changed."""
import datetime as dt
import re

import pytest

from console.db import utcnow
from console.models import (
    AuditLog,
    Organization,
    Permission,
    Role,
    RolePermission,
    User,
)
from console.system import accounts, audit, params
from tests.conftest import login

IP = "127.0.0.1"  # the test client's address


@pytest.fixture
def admin(client, login_as, form_token):
    login_as("admin")
    client.post("/locale", data={"locale": "en", "csrf_token": form_token("/admin/")})
    return client


def last(action, object_type):
    return (AuditLog.select().where(AuditLog.action == action,
                                    AuditLog.object_type == object_type)
            .order_by(AuditLog.id.desc()).first())


def assert_by_admin(row):
    admin = User.get(User.email == "admin@demo.local")
    assert row is not None
    assert (row.actor_id, row.actor_name, row.ip) == (admin.id, str(admin), IP)


def org_form(**fields):
    return {"name_en": "", "kind": "team", "sort": "0", "is_active": "y", **fields}


def test_creating_and_renaming_an_organization_is_audited(admin, form_token):
    sh = Organization.get(Organization.code == "SH")
    response = admin.post("/admin/organizations/new/", data=org_form(
        code="SH-QA", name="上海质检组", parent=str(sh.id),
        csrf_token=form_token("/admin/organizations/new/")))
    assert response.status_code == 302
    created = Organization.get(Organization.code == "SH-QA")
    row = last("create", "Organization")
    assert_by_admin(row)
    assert (row.object_id, row.object_repr, row.before) == (str(created.id), "上海质检组", None)
    assert row.after["code"] == "SH-QA" and row.after["path"] == f"{sh.path}{created.id}/"

    url = f"/admin/organizations/edit/?id={created.id}"
    response = admin.post(url, data=org_form(code="SH-QA", name="上海质量组",
                                             parent=str(sh.id), csrf_token=form_token(url)))
    assert response.status_code == 302
    row = last("update", "Organization")
    assert_by_admin(row)
    assert (row.before["name"], row.after["name"]) == ("上海质检组", "上海质量组")


def test_deleting_a_permission_is_audited_with_the_record_before(admin, form_token):
    permission = Permission.get(Permission.code == "monitor.messages")
    response = admin.post("/admin/permissions/delete/", data={
        "id": str(permission.id), "csrf_token": form_token("/admin/permissions/")})
    assert response.status_code == 302
    assert Permission.get_or_none(Permission.id == permission.id) is None
    assert not RolePermission.select().where(RolePermission.permission == permission.id).exists()
    row = last("delete", "Permission")
    assert_by_admin(row)
    assert (row.before["code"], row.after) == ("monitor.messages", None)


def test_changing_a_permissions_resources_is_audited(admin, form_token):
    permission = Permission.get(Permission.code == "system.org.read")
    held = [str(link.resource_id) for link in permission.resource_links]
    extra = Permission.get(Permission.code == "system.user.read").resource_links[0].resource
    url = f"/admin/permissions/edit/?id={permission.id}"
    response = admin.post(url, data={
        "code": permission.code, "name": permission.name, "name_en": permission.name_en,
        "description": "", "resources": held + [str(extra.id)], "csrf_token": form_token(url)})
    assert response.status_code == 302
    row = last("set_resources", "Permission")
    assert_by_admin(row)
    assert row.object_id == str(permission.id)
    assert row.before == {"resources": ["organizations"]}
    assert row.after == {"resources": sorted(["organizations", extra.code])}


def test_changing_a_roles_permissions_is_audited(admin, form_token):
    role = Role.get(Role.name == "finance")
    held = sorted(link.permission.code for link in role.permission_links)
    audit_read = Permission.get(Permission.code == "monitor.audit.read")
    assert audit_read.code not in held
    url = f"/admin/roles/edit/?id={role.id}"
    response = admin.post(url, data={
        "name": role.name, "title": role.title, "title_en": role.title_en,
        "data_scope": role.data_scope, "description": "", "csrf_token": form_token(url),
        "permissions": [str(link.permission_id) for link in role.permission_links]
        + [str(audit_read.id)]})
    assert response.status_code == 302
    row = last("set_permissions", "Role")
    assert_by_admin(row)
    assert row.before == {"permissions": held}
    assert row.after == {"permissions": sorted(held + [audit_read.code])}


def test_changing_a_users_roles_is_audited(admin, form_token):
    user = User.get(User.email == "finance@demo.local")
    manager = Role.get(Role.name == "manager")
    url = f"/admin/users/edit/?id={user.id}"
    response = admin.post(url, data={
        "email": user.email, "username": user.username, "phone": user.phone,
        "full_name": user.full_name, "organization": str(user.organization_id),
        "active": "y", "locale": "", "new_password": "", "csrf_token": form_token(url),
        "roles": [str(link.role_id) for link in user.roles] + [str(manager.id)]})
    assert response.status_code == 302
    row = last("set_roles", "User")
    assert_by_admin(row)
    assert row.object_id == str(user.id)
    assert (row.before, row.after) == ({"roles": ["finance"]},
                                       {"roles": ["finance", "manager"]})


def test_deactivating_and_unlocking_accounts_are_audited(admin, form_token):
    user = User.get(User.email == "butler@demo.local")
    User.update(locked_until=utcnow() + dt.timedelta(minutes=10)).where(
        User.id == user.id).execute()
    token = form_token("/admin/users/")
    for action in ("deactivate", "unlock"):
        response = admin.post("/admin/users/action/", data={
            "action": action, "rowid": str(user.id), "csrf_token": token})
        assert response.status_code == 302
    after = User.get_by_id(user.id)
    assert not after.active and not accounts.lock_minutes_left(after)
    row = last("deactivate", "User")
    assert_by_admin(row)
    assert (row.object_id, row.before, row.after) == (str(user.id), {"active": True},
                                                      {"active": False})
    row = last("unlock", "User")
    assert_by_admin(row)
    before, after = (dt.datetime.fromisoformat(row.before["locked_until"]),
                     dt.datetime.fromisoformat(row.after["locked_until"]))
    assert before > after  # the lock was lifted before it ran out


def test_a_login_lockout_is_audited_against_the_locked_account(app, client):
    user = User.get(User.email == "dispatcher@demo.local")
    for _ in range(params.param("security.login_max_failures")):
        assert login(client, "dispatcher", "wrong-password").status_code == 200
    assert User.get_by_id(user.id).locked_until is not None
    row = last("lock", "User")
    assert row is not None
    assert (row.object_id, row.actor_id, row.ip) == (str(user.id), None, IP)
    assert row.after["locked_until"]


# ---- the audit log page -----------------------------------------------------------------
@pytest.mark.parametrize("method,path", [
    ("GET", "/admin/audit/new/"), ("POST", "/admin/audit/new/"),
    ("GET", "/admin/audit/edit/?id={id}"), ("POST", "/admin/audit/edit/?id={id}"),
    ("POST", "/admin/audit/delete/"), ("POST", "/admin/audit/action/"),
])
def test_the_audit_log_cannot_be_changed_even_by_the_super_administrator(
        admin, form_token, method, path):
    audit.record("note", note="as it happened")
    entry = AuditLog.select().order_by(AuditLog.id.desc()).first()
    before = AuditLog.select().count()
    url = path.format(id=entry.id)
    data = {"id": str(entry.id), "action": "delete", "rowid": str(entry.id),
            "note": "tampered", "csrf_token": form_token("/admin/audit/")}
    response = admin.get(url) if method == "GET" else admin.post(url, data=data)
    assert response.status_code == 403
    assert AuditLog.select().count() == before
    assert AuditLog.get_by_id(entry.id).note == entry.note


def test_the_audit_log_is_readable_and_filtered_by_action(app, admin, form_token):
    test_changing_a_users_roles_is_audited(admin, form_token)
    view = next(v for v in app.extensions["console_admin"]._views if v.endpoint == "audit")
    index, flt = next((i, f) for i, f in enumerate(view._filters)
                      if f.column.name == "action" and type(f).__name__ == "FilterEqual")
    page = admin.get(f"/admin/audit/?flt0_{view.get_filter_arg(index, flt)}=set_roles")
    assert page.status_code == 200
    actions = re.findall(r'<td class="col-action">\s*<span title="(\w+)">',
                         page.get_data(as_text=True), re.S)
    assert actions and set(actions) == {"set_roles"}
    entry = last("set_roles", "User")
    assert admin.get(f"/admin/audit/details/?id={entry.id}").status_code == 200
