"""Row-level data scope over every way into a record: list, detail, edit, ajax lookup, FK
select and export (Flask-Admin #1739: scoping the list but not the single record)."""
import csv
import io
import re

import pytest

from console.models import DATA_SCOPES, Organization, Permission, Role, User
from console.system import rbac, users
from tests.conftest import PASSWORD

SH_SUBTREE = {"SH", "SH-DISPATCH", "SH-BUTLERS"}


def make_scoped_user(app, scope, email="sh.ops@demo.local", org="SH",
                     permissions=("system.user.write", "system.org.write")):
    """A role with `scope` and `permissions`, and a user with it in `org` (by the operations
    the console and the CLI use)."""
    role = Role.create(name=f"sh_{scope}", title="上海运营", title_en="Shanghai ops",
                       data_scope=scope)
    rbac.set_role_permissions(role, [Permission.get(Permission.code == code).id
                                     for code in permissions])
    with app.app_context():
        return users.create_user(email, roles=[role.name], organization=org,
                          password=PASSWORD)


def org(code):
    return Organization.get(Organization.code == code)


def in_subtree(code):
    return Organization.select().where(Organization.path.startswith(org(code).path))


def column(page, name):
    """The texts of one column of a Flask-Admin list page."""
    return {m.strip() for m in re.findall(rf'<td class="col-{name}">\s*(.*?)\s*</td>', page,
                                          re.S)}


def list_total(page):
    return int(re.search(r"List \((\d+)\)", page).group(1))


def exported(client, page, header):
    response = client.get(f"/admin/{page}/export/csv/")
    assert response.status_code == 200
    text = response.get_data().decode("utf-8-sig")  # the export starts with a BOM for Excel
    return {row[header] for row in csv.DictReader(io.StringIO(text))}


@pytest.fixture
def in_english(client, form_token):
    """Switch the signed-in client to English (list counts and csv headers are read)."""
    def switch():
        client.post("/locale", data={"locale": "en", "csrf_token": form_token("/admin/")})
    return switch


@pytest.fixture
def sh_ops(app, login_as, in_english):
    user = make_scoped_user(app, "org_and_below")
    login_as(user.email)
    in_english()
    return user


def test_list_shows_only_users_of_the_own_organization_subtree(client, sh_ops):
    page = client.get("/admin/users/").get_data(as_text=True)
    expected = {u.email for u in User.select().where(
        User.organization.in_(in_subtree("SH")), User.is_deleted == False)}  # noqa: E712
    assert list_total(page) == len(expected)
    assert column(page, "email") <= expected  # the first page of them
    assert {"dispatcher@demo.local", "butler@demo.local", sh_ops.email} <= expected
    search = client.get("/admin/users/?search=demo.local").get_data(as_text=True)
    assert column(search, "email") == {e for e in expected if e.endswith("@demo.local")}


def test_list_shows_only_organizations_of_the_own_subtree(client, sh_ops):
    page = client.get("/admin/organizations/").get_data(as_text=True)
    assert column(page, "code") == SH_SUBTREE


@pytest.mark.parametrize("scope", DATA_SCOPES)
def test_each_data_scope_limits_the_user_list_and_export_to_its_rows(
        app, client, login_as, in_english, scope):
    user = make_scoped_user(app, scope, email=f"scope.{scope}@demo.local", org="SH",
                            permissions=("system.user.write",))
    login_as(user.email)
    in_english()
    everyone = User.select().where(User.is_deleted == False)  # noqa: E712
    expected = {u.email for u in {
        "all": everyone,
        "org_and_below": everyone.where(User.organization.in_(in_subtree("SH"))),
        "org": everyone.where(User.organization == org("SH")),
        "own": everyone.where(User.id == user.id),
    }[scope]}
    page = client.get("/admin/users/").get_data(as_text=True)
    assert list_total(page) == len(expected)
    assert column(page, "email") <= expected
    assert exported(client, "users", "Email") == expected


@pytest.mark.parametrize("action", ["edit", "details"])
def test_a_typed_id_of_a_record_outside_the_scope_is_not_found(client, sh_ops, action):
    admin = User.get(User.email == "admin@demo.local")
    dispatcher = User.get(User.email == "dispatcher@demo.local")
    assert client.get(f"/admin/users/{action}/?id={admin.id}").status_code == 404
    assert client.get(f"/admin/users/{action}/?id={dispatcher.id}").status_code == 200
    assert client.get(f"/admin/organizations/{action}/?id={org('BJ').id}").status_code == 404
    assert client.get(f"/admin/organizations/{action}/?id={org('SH').id}").status_code == 200


def test_an_id_that_does_not_exist_is_not_found_either(client, sh_ops):
    assert client.get("/admin/users/edit/?id=999999").status_code == 404
    assert client.get("/admin/users/details/?id=not-a-number").status_code == 404


def test_ajax_lookup_offers_only_organizations_in_scope(client, sh_ops):
    response = client.get("/admin/users/ajax/lookup/?name=organization&query=")
    assert response.status_code == 200
    offered = {row[0] for row in response.json}
    assert offered == {o.id for o in in_subtree("SH")}
    searched = client.get("/admin/users/ajax/lookup/?name=organization&query=BJ").json
    assert searched == []


def user_form(user, **changes):
    fields = {"email": user.email, "username": user.username or "", "phone": user.phone or "",
              "full_name": user.full_name, "organization": str(user.organization_id),
              "active": "y", "locale": user.locale, "new_password": ""}
    fields.update(changes)
    fields.setdefault("roles", [str(link.role_id) for link in user.roles])
    return fields


def test_saving_a_user_into_an_organization_outside_the_scope_is_refused(
        client, sh_ops, form_token):
    dispatcher = User.get(User.email == "dispatcher@demo.local")
    url = f"/admin/users/edit/?id={dispatcher.id}"
    response = client.post(url, data=user_form(dispatcher, organization=str(org("BJ").id),
                                                csrf_token=form_token(url)))
    assert response.status_code == 200  # the form again, with the error under the field
    assert re.search(r'name="organization"[^>]*>\s*<div class="invalid-feedback">',
                     response.get_data(as_text=True))
    assert User.get_by_id(dispatcher.id).organization_id == dispatcher.organization_id


def test_a_new_organization_cannot_be_placed_outside_the_scope(client, sh_ops, form_token):
    token = form_token("/admin/organizations/new/")
    for parent in (str(org("BJ").id), "__None"):
        response = client.post("/admin/organizations/new/", data={
            "code": "SH-NEW", "name": "新组", "name_en": "New team", "kind": "team",
            "parent": parent, "sort": "0", "is_active": "y", "csrf_token": token})
        assert response.status_code == 200, parent
    assert not Organization.select().where(Organization.code == "SH-NEW").exists()
    response = client.post("/admin/organizations/new/", data={
        "code": "SH-NEW", "name": "新组", "name_en": "New team", "kind": "team",
        "parent": str(org("SH").id), "sort": "0", "is_active": "y", "csrf_token": token})
    assert response.status_code == 302
    assert org("SH-NEW").path.startswith(org("SH").path)


def test_export_contains_only_rows_in_scope(client, sh_ops):
    assert exported(client, "organizations", "Code") == SH_SUBTREE
    assert exported(client, "users", "Email") == {u.email for u in User.select().where(
        User.organization.in_(in_subtree("SH")), User.is_deleted == False)}  # noqa: E712


def test_a_scoped_administrator_cannot_hand_out_wider_roles(client, sh_ops, form_token):
    dispatcher = User.get(User.email == "dispatcher@demo.local")
    url = f"/admin/users/edit/?id={dispatcher.id}"
    refusals = {"super_admin": "only a super administrator may grant super_admin",
                "platform_admin": "platform_admin sees more data than your own data scope"}
    for code, reason in refusals.items():
        role = Role.get(Role.name == code)
        roles = [str(link.role_id) for link in dispatcher.roles] + [str(role.id)]
        response = client.post(url, data=user_form(dispatcher, roles=roles,
                                                    csrf_token=form_token(url)))
        assert response.status_code == 200, code
        assert reason in response.get_data(as_text=True)
    assert [link.role.name for link in User.get_by_id(dispatcher.id).roles] == ["dispatcher"]
