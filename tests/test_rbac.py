"""RBAC administration: bad input is refused with a clear error and changes nothing; menus
follow the grants at any depth; the per-process cache follows every change."""
import pytest

from console.models import (
    MenuItem,
    Organization,
    Permission,
    Resource,
    Role,
    RolePermission,
    User,
)
from console.system import rbac
from tests.conftest import csrf_token, login

pytestmark = pytest.mark.usefixtures("app")  # every test runs on a fresh seeded database


def menu(key):
    return MenuItem.get(MenuItem.key == key)


def org(code):
    return Organization.get(Organization.code == code)


def role(code):
    return Role.get(Role.name == code)


def permission_codes(role_code):
    return sorted(link.permission.code for link in role(role_code).permission_links)


def page_text(response):
    return response.get_data(as_text=True)


@pytest.fixture
def admin(client, login_as, form_token):
    """The super administrator's client, in English (the tests read the messages)."""
    login_as("admin")
    client.post("/locale", data={"locale": "en", "csrf_token": form_token("/admin/")})
    return client


# ---- bad input --------------------------------------------------------------------------
@pytest.mark.parametrize("code", ["DISPATCHER", " Dispatcher ", "dispatcher"])
def test_a_role_code_that_exists_in_any_case_is_refused_by_the_operation(code):
    with pytest.raises(rbac.RbacError) as refused:
        rbac.check_role_code(code)
    assert refused.value.field == "name"
    assert "already exists" in str(refused.value.message)
    rbac.check_role_code(code, role_id=role("dispatcher").id)  # renaming itself is fine


def test_a_role_code_that_exists_is_refused_by_the_console_and_nothing_is_created(
        admin, form_token):
    before = Role.select().count()
    response = admin.post("/admin/roles/new/", data={
        "name": "Dispatcher", "title": "调度员2", "title_en": "Dispatcher 2",
        "data_scope": "org", "description": "", "csrf_token": form_token("/admin/roles/new/")})
    assert response.status_code == 200
    assert "Role code: dispatcher already exists." in page_text(response)
    assert Role.select().count() == before


def test_a_menu_node_cannot_become_its_own_ancestor():
    system = menu("system")
    for new_parent in (system, menu("system.access"), menu("system.roles")):  # self, child,
        with pytest.raises(rbac.RbacError) as refused:                         # grandchild
            rbac.check_tree_parent(MenuItem, system.id, new_parent.id)
        assert refused.value.field == "parent"
    rbac.check_tree_parent(MenuItem, menu("system.roles").id, menu("monitor").id)  # a real move


def menu_form(item, **changes):
    fields = {"parent": str(item.parent_id or "__None"), "title": item.title,
              "title_en": item.title_en, "icon": item.icon, "sort": str(item.sort),
              "resource": str(item.resource_id or "__None")}
    fields.update(changes)
    return fields


def test_moving_a_menu_node_under_its_own_submenu_in_the_console_changes_nothing(
        admin, form_token):
    system, submenu = menu("system"), menu("system.access")  # a menu: pages hold no entries
    url = f"/admin/menus/edit/?id={system.id}"
    version = rbac.stored_version()
    response = admin.post(url, data=menu_form(system, parent=str(submenu.id),
                                              title="改名", csrf_token=form_token(url)))
    assert response.status_code == 200
    assert "cannot be moved under itself or its own descendant" in page_text(response)
    after = menu("system")
    assert (after.parent_id, after.title) == (None, system.title)
    assert rbac.stored_version() == version


def org_form(item, **changes):
    fields = {"code": item.code, "name": item.name, "name_en": item.name_en, "kind": item.kind,
              "parent": str(item.parent_id or "__None"), "sort": str(item.sort),
              "is_active": "y"}
    fields.update(changes)
    return fields


def test_an_organization_cannot_become_its_own_ancestor(admin, form_token):
    sh, below = org("SH"), org("SH-DISPATCH")
    with pytest.raises(rbac.RbacError):
        rbac.check_tree_parent(Organization, sh.id, below.id)
    url = f"/admin/organizations/edit/?id={sh.id}"
    for parent in (below, sh):
        response = admin.post(url, data=org_form(sh, parent=str(parent.id),
                                                 csrf_token=form_token(url)))
        assert response.status_code == 200
        assert "cannot be moved under itself" in page_text(response)
    assert org("SH").parent_id == org("HQ").id
    assert org("SH-DISPATCH").path == f"{sh.path}{below.id}/"


def test_moving_an_organization_rewrites_the_paths_of_its_subtree(admin, form_token):
    sh, bj = org("SH"), org("BJ")
    url = f"/admin/organizations/edit/?id={sh.id}"
    response = admin.post(url, data=org_form(sh, parent=str(bj.id), csrf_token=form_token(url)))
    assert response.status_code == 302
    assert org("SH").path == f"{bj.path}{sh.id}/"
    assert org("SH-DISPATCH").path == f"{bj.path}{sh.id}/{org('SH-DISPATCH').id}/"


def test_a_resource_that_does_not_exist_is_refused_and_the_permission_keeps_its_resources():
    permission = Permission.get(Permission.code == "system.org.write")
    before = sorted(link.resource_id for link in permission.resource_links)
    with pytest.raises(rbac.RbacError) as refused:
        rbac.set_permission_resources(permission, before + [999999])
    assert refused.value.field == "resources"
    assert "999999" in str(refused.value.message)
    assert sorted(link.resource_id for link in permission.resource_links) == before


def test_a_resource_that_does_not_exist_is_refused_through_the_console_form(admin, form_token):
    permission = Permission.get(Permission.code == "system.org.write")
    held = [str(link.resource_id) for link in permission.resource_links]
    url = f"/admin/permissions/edit/?id={permission.id}"
    response = admin.post(url, data={
        "code": permission.code, "name": "改了名", "name_en": permission.name_en,
        "description": "", "resources": held + ["999999"], "csrf_token": form_token(url)})
    assert response.status_code == 200
    assert "Resources: 999999 do not exist." in page_text(response)
    after = Permission.get_by_id(permission.id)
    assert after.name == permission.name  # the whole save was undone
    assert sorted(str(link.resource_id) for link in after.resource_links) == sorted(held)


def test_a_user_without_an_organization_is_refused_by_the_console(admin, form_token):
    response = admin.post("/admin/users/new/", data={
        "email": "no.org@demo.local", "full_name": "无机构", "organization": "",
        "active": "y", "locale": "", "new_password": "Secret@2026",
        "roles": [str(role("dispatcher").id)], "csrf_token": form_token("/admin/users/new/")})
    assert response.status_code == 200
    assert "Every user belongs to one organization" in page_text(response)
    assert not User.select().where(User.email == "no.org@demo.local").exists()


@pytest.mark.parametrize("option,value,reason", [
    ("--org", "NOWHERE", "Organization: NOWHERE does not exist."),
    ("--role", "wizard", "Role: wizard does not exist."),
])
def test_create_user_with_an_unknown_organization_or_role_is_refused(app, option, value, reason):
    args = {"--role": "dispatcher", "--org": "SH", "--password": "Secret@2026"}
    args[option] = value
    result = app.test_cli_runner().invoke(
        args=["create-user", "cli@demo.local"] + [x for pair in args.items() for x in pair])
    assert result.exit_code != 0
    assert reason in result.output
    assert not User.select().where(User.email == "cli@demo.local").exists()


# ---- menus ------------------------------------------------------------------------------
def titles(nodes):
    return [node["title"] for node in nodes]


def find(nodes, title):
    return next((node for node in nodes if node["title"] == title), None)


@pytest.fixture
def deep_menu():
    """L1 › L2 › L3 › L4 › L5 (users page), and L2 › L2b (organizations page)."""
    users = Resource.get(Resource.code == "users")
    parent, chain = None, []
    for depth in range(1, 6):
        parent = MenuItem.create(title=f"层{depth}", title_en=f"L{depth}", parent=parent,
                                 sort=900 + depth,
                                 resource=users if depth == 5 else None)
        chain.append(parent)
    MenuItem.create(title="层2b", title_en="L2b", parent=chain[1],
                    resource=Resource.get(Resource.code == "organizations"))
    rbac.bump()
    rbac.refresh_if_stale()
    return chain


def path_to(tree, *titles_down):
    node = {"children": tree}
    for title in titles_down:
        node = find(node["children"], title)
        if node is None:
            return None
    return node


def test_a_menu_five_levels_deep_shows_to_a_holder_of_its_page(deep_menu):
    manager = User.get(User.email == "manager@demo.local")  # holds users and organizations
    tree = rbac.visible_menu(manager, "en")
    leaf = path_to(tree, "L1", "L2", "L3", "L4", "L5")
    assert leaf is not None and leaf["url"] == "/admin/users/"
    assert path_to(tree, "L1")["url"] == ""  # a group without a page of its own


def test_a_branch_without_any_held_page_vanishes_and_its_parents_stay_for_a_sibling(deep_menu):
    dispatcher = User.get(User.email == "dispatcher@demo.local")  # organizations, not users
    tree = rbac.visible_menu(dispatcher, "en")
    assert path_to(tree, "L1", "L2", "L2b") is not None
    assert titles(path_to(tree, "L1", "L2")["children"]) == ["L2b"]  # L3..L5 are gone
    butler = User.get(User.email == "butler@demo.local")  # neither page
    assert path_to(rbac.visible_menu(butler, "en"), "L1") is None


def test_a_hidden_node_vanishes_with_everything_below_it(deep_menu):
    manager = User.get(User.email == "manager@demo.local")
    MenuItem.update(is_hidden=True).where(MenuItem.id == deep_menu[2].id).execute()
    rbac.bump()
    rbac.refresh_if_stale()
    tree = rbac.visible_menu(manager, "en")
    assert titles(path_to(tree, "L1", "L2")["children"]) == ["L2b"]


def test_menu_titles_follow_the_language(deep_menu):
    manager = User.get(User.email == "manager@demo.local")
    assert path_to(rbac.visible_menu(manager, "zh_Hans_CN"), "层1", "层2", "层3") is not None


def test_the_sidebar_shows_the_deep_menu_to_its_holder_only(deep_menu, app, client, login_as):
    login_as("manager")
    assert 'href="/admin/users/"' in page_text(client.get("/admin/"))
    assert "层5" in page_text(client.get("/admin/"))
    other = app.test_client()
    login(other, "dispatcher@demo.local")
    page = page_text(other.get("/admin/"))
    assert "层2b" in page and "层3" not in page


# ---- the cache --------------------------------------------------------------------------
def test_every_kind_of_rbac_change_bumps_the_version():
    dispatcher_role, user = role("dispatcher"), User.get(User.email == "dispatcher@demo.local")
    permission = Permission.get(Permission.code == "system.user.read")
    changes = {
        "role permissions": lambda: rbac.set_role_permissions(
            dispatcher_role, [p.id for p in Permission.select()]),
        "permission resources": lambda: rbac.set_permission_resources(
            permission, [r.id for r in Resource.select().where(Resource.code == "users")] +
            [Resource.get(Resource.code == "organizations").id]),
        "user roles": lambda: rbac.set_user_roles(user, [dispatcher_role.id, role("finance").id]),
    }
    for name, change in changes.items():
        version = rbac.stored_version()
        change()
        assert rbac.stored_version() > version, name


def test_console_role_and_menu_changes_bump_the_version(admin, form_token):
    dispatcher = role("dispatcher")
    url = f"/admin/roles/edit/?id={dispatcher.id}"
    version = rbac.stored_version()
    response = admin.post(url, data={
        "name": "dispatcher", "title": dispatcher.title, "title_en": dispatcher.title_en,
        "data_scope": "org", "description": "", "csrf_token": form_token(url),
        "permissions": [str(link.permission_id) for link in dispatcher.permission_links]})
    assert response.status_code == 302
    assert role("dispatcher").data_scope == "org"
    assert rbac.stored_version() > version
    version = rbac.stored_version()
    response = admin.post("/admin/menus/action/", data={
        "action": "hide", "rowid": str(menu("system.users").id),
        "csrf_token": form_token("/admin/menus/")})
    assert response.status_code == 302
    assert menu("system.users").is_hidden
    assert rbac.stored_version() > version


def test_a_role_granted_more_is_seen_on_the_users_next_request(client, login_as):
    login_as("dispatcher")
    assert client.get("/admin/users/").status_code == 403
    assert 'href="/admin/users/"' not in page_text(client.get("/admin/"))
    user_read = Permission.get(Permission.code == "system.user.read")
    RolePermission.create(role=role("dispatcher"), permission=user_read)
    assert client.get("/admin/users/").status_code == 403  # no bump: the cache still holds
    rbac.bump()
    assert client.get("/admin/users/").status_code == 200
    assert 'href="/admin/users/"' in page_text(client.get("/admin/"))


def test_a_role_taken_away_through_the_console_locks_the_user_out_on_the_next_request(
        app, client, login_as, form_token):
    login_as("manager")
    assert client.get("/admin/users/").status_code == 200
    admin = app.test_client()
    login(admin, "admin@demo.local")
    manager = User.get(User.email == "manager@demo.local")
    url = f"/admin/users/edit/?id={manager.id}"
    token = csrf_token(admin, url)
    response = admin.post(url, data={
        "email": manager.email, "username": manager.username, "phone": manager.phone,
        "full_name": manager.full_name, "organization": str(manager.organization_id),
        "active": "y", "locale": "", "new_password": "", "roles": [str(role("finance").id)],
        "csrf_token": token})
    assert response.status_code == 302
    assert client.get("/admin/users/").status_code == 403


def test_an_administrator_cannot_deactivate_their_own_account(admin, form_token):
    me = User.get(User.email == "admin@demo.local")
    response = admin.post("/admin/users/action/", data={
        "action": "deactivate", "rowid": str(me.id), "csrf_token": form_token("/admin/users/")})
    assert response.status_code == 302
    assert User.get_by_id(me.id).active
    assert admin.get("/admin/users/").status_code == 200
