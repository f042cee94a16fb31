"""Menu management as a tree: one page shows every node nested under its menu; nodes are
reordered, moved and nested in place; only menus (nodes without a page) hold other nodes,
and no node moves under itself. Every move is audited and reaches every worker's sidebar."""
import re

import pytest
import testkit

from console.errors import InputError
from console.models import AuditLog, MenuItem
from console.system import rbac


def node(key):
    return MenuItem.get(MenuItem.key == key)


def siblings(parent):
    query = MenuItem.select().where(MenuItem.parent.is_null() if parent is None
                                    else MenuItem.parent == parent.id)
    return [m.id for m in query.order_by(MenuItem.sort, MenuItem.id)]


def a_menu_with_pages():
    for item in MenuItem.select().where(MenuItem.resource.is_null()):
        kids = list(MenuItem.select().where(MenuItem.parent == item.id,
                                            MenuItem.resource.is_null(False)))
        if len(kids) >= 3:
            return item, kids
    pytest.fail("the seed menu has no menu with three pages")


def test_moving_a_node_up_renumbers_its_siblings_in_the_new_order(app):
    menu, _pages = a_menu_with_pages()
    order = siblings(menu)
    third = MenuItem.get_by_id(order[2])
    rbac.move_menu(third, menu, 0)
    assert siblings(menu) == [order[2], order[0], order[1], *order[3:]]
    assert [m.sort for m in MenuItem.select().where(MenuItem.parent == menu.id)
            .order_by(MenuItem.sort)] == [10 * (n + 1) for n in range(len(order))]
    entry = AuditLog.select().where(AuditLog.action == "move",
                                    AuditLog.object_id == str(third.id)).get()
    assert entry.after == {"parent": menu.id, "sort": 10}


def test_a_node_nests_under_another_menu_and_the_sidebar_follows(app):
    menu, pages = a_menu_with_pages()
    other = MenuItem.select().where(MenuItem.resource.is_null(), MenuItem.id != menu.id,
                                    MenuItem.parent.is_null()).first()
    version = rbac.stored_version()
    rbac.move_menu(pages[0], other, 99)
    assert MenuItem.get_by_id(pages[0].id).parent_id == other.id
    assert siblings(other)[-1] == pages[0].id
    assert rbac.stored_version() > version


def test_only_a_menu_holds_entries_and_nothing_moves_under_itself(app):
    menu, pages = a_menu_with_pages()
    with pytest.raises(InputError) as refused:
        rbac.move_menu(pages[0], pages[1], 0)  # under a page link
    assert refused.value.field == "parent" and "page" in str(refused.value.message)
    parent = MenuItem.get_by_id(menu.parent_id) if menu.parent_id else None
    if parent is None:
        child_menu = MenuItem.select().where(MenuItem.parent == menu.id,
                                             MenuItem.resource.is_null()).first()
        if child_menu is None:
            child_menu = MenuItem.create(title="子菜单", title_en="Submenu", parent=menu)
        with pytest.raises(InputError):
            rbac.move_menu(menu, child_menu, 0)  # under its own descendant
    with pytest.raises(InputError):
        rbac.move_menu(menu, menu, 0)
    assert MenuItem.get_by_id(pages[0].id).parent_id == menu.id


# ---- the page --------------------------------------------------------------------------------
def tree_of(page):
    """{node id: parent node id} as the page nests them."""
    nested, stack = {}, []
    page = page[page.index('id="menu-tree"'):]
    for match in re.finditer(r'<li id="menu-(\d+)"|</li>', page):
        if match.group(1):
            nested[int(match.group(1))] = stack[-1] if stack else None
            stack.append(int(match.group(1)))
        else:
            stack.pop()
    return nested


def test_the_page_shows_every_node_once_nested_under_its_parent(client, login_as):
    login_as("admin")
    page = client.get("/admin/menus/").get_data(as_text=True)
    shown = tree_of(page)
    assert shown == {m.id: m.parent_id for m in MenuItem.select()}
    assert "?page=1" not in page and "page=2" not in page  # one page, however many nodes


def test_the_parent_choices_are_menus_only(client, login_as):
    login_as("admin")
    menu, pages = a_menu_with_pages()
    form = client.get(f"/admin/menus/edit/?id={pages[0].id}").get_data(as_text=True)
    select = re.search(r'<select[^>]*id="parent".*?</select>', form, re.S).group(0)
    offered = {int(v) for v in re.findall(r'value="(\d+)"', select)}
    assert offered == {m.id for m in MenuItem.select().where(MenuItem.resource.is_null())}
    assert pages[1].id not in offered
    tree = client.get("/admin/menus/").get_data(as_text=True)
    row = re.search(rf'<li id="menu-{menu.id}".*?</form>\s*<a', tree, re.S).group(0)
    movable_to = {int(v) for v in re.findall(r'<option value="(\d+)"', row)}
    assert menu.id not in movable_to  # not under itself
    assert all(MenuItem.get_by_id(v).resource_id is None for v in movable_to)


def test_arrows_and_move_post_to_the_tree_and_a_page_as_parent_is_refused(
        client, login_as, form_token):
    login_as("admin")
    menu, pages = a_menu_with_pages()
    order = siblings(menu)
    token = form_token("/admin/menus/")
    response = client.post("/admin/menus/move/", data={
        "csrf_token": token, "id": order[1], "parent": menu.id, "position": "up"})
    assert response.status_code == 302 and f"#menu-{order[1]}" in response.headers["Location"]
    assert siblings(menu)[:2] == [order[1], order[0]]

    response = client.post("/admin/menus/move/", data={
        "csrf_token": token, "id": pages[0].id, "parent": pages[1].id, "position": "last"},
        headers={"Referer": "http://localhost/admin/menus/"}, follow_redirects=True)
    assert "alert-danger" in response.get_data(as_text=True)
    assert MenuItem.get_by_id(pages[0].id).parent_id == menu.id

    client.post("/admin/menus/move/", data={"csrf_token": token, "id": pages[0].id,
                                            "parent": "top", "position": "first"})
    assert siblings(None)[0] == pages[0].id


def test_moving_needs_the_edit_button_of_the_menu_page(app, client, login_as, form_token):
    login_as("admin")
    token = form_token("/admin/menus/")
    menu, pages = a_menu_with_pages()
    platform = app.test_client()
    assert testkit.login(platform, "platform@demo.local").status_code == 302
    held = rbac.can(rbac.user_for_identity("platform@demo.local"), "menus.edit")
    response = platform.post("/admin/menus/move/", data={
        "csrf_token": testkit.csrf_token(platform, "/admin/"), "id": pages[0].id,
        "parent": "top", "position": "first"})
    assert response.status_code == (302 if held else 403)
    dispatcher = app.test_client()
    assert testkit.login(dispatcher, "dispatcher@demo.local").status_code == 302
    refused = dispatcher.post("/admin/menus/move/", data={
        "csrf_token": testkit.csrf_token(dispatcher, "/admin/"), "id": pages[1].id,
        "parent": "top", "position": "first"})
    assert refused.status_code == 403
    assert MenuItem.get_by_id(pages[1].id).parent_id == menu.id
    del token
