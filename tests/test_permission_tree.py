"""The permission form's resource tree: each page carries its buttons and actions as its own
children, one checkbox each, nothing ticked that the permission does not hold; the sensitive
ones (refund, settle, delete ...) are marked; and the script never ticks a child for a parent."""
import re
from html.parser import HTMLParser
from pathlib import Path

from console.models import Permission, Resource
from console.system import rbac
from console.views.orders import CONSOLE_MOVES

STATIC = Path(__file__).resolve().parent.parent / "console" / "static"


class Tree(HTMLParser):
    """{checkbox value: (checked, parent checkbox value, label text)} of a checkbox tree."""

    def __init__(self, page):
        super().__init__(convert_charrefs=True)
        self.boxes, self._stack, self._label, self._in_tree = {}, [], None, 0
        self.feed(page)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "div" and "checkbox-tree" in (attrs.get("class") or ""):
            self._in_tree = 1
        if not self._in_tree:
            return
        if tag == "li":
            self._stack.append(None)
        elif tag == "input" and attrs.get("type") == "checkbox":
            parent = next((v for v in reversed(self._stack[:-1]) if v is not None), None)
            self._stack[-1] = int(attrs["value"])
            self.boxes[int(attrs["value"])] = ["checked" in attrs, parent, ""]
        elif tag == "label":
            self._label = self._stack[-1]

    def handle_endtag(self, tag):
        if self._in_tree and tag == "li":
            self._stack.pop()
        if tag == "label":
            self._label = None

    def handle_data(self, data):
        if self._label is not None:
            self.boxes[self._label][2] += data


def test_each_order_action_is_its_own_child_of_the_orders_page(client, login_as):
    login_as("admin")
    tree = Tree(client.get("/admin/permissions/new/").get_data(as_text=True)).boxes
    orders = Resource.get(Resource.code == "orders")
    children = {Resource.get_by_id(v).code for v, (_c, parent, _l) in tree.items()
                if parent == orders.id}
    assert children == {f"orders.action.{move}" for move in CONSOLE_MOVES}
    assert len(children) == 17
    assert not any(checked for checked, _parent, _label in tree.values())


def test_a_permission_holding_a_page_shows_none_of_its_actions_ticked(client, login_as):
    login_as("admin")
    permission = Permission.create(code="orders_view", name="查看订单", name_en="View orders")
    orders = Resource.get(Resource.code == "orders")
    refund = Resource.get(Resource.code == "orders.action.refund")
    rbac.set_permission_resources(permission, [orders.id])
    tree = Tree(client.get(f"/admin/permissions/edit/?id={permission.id}")
                .get_data(as_text=True)).boxes
    assert tree[orders.id][0] is True
    assert [v for v, (checked, _p, _l) in tree.items() if checked] == [orders.id]

    rbac.set_permission_resources(permission, [orders.id, refund.id])
    tree = Tree(client.get(f"/admin/permissions/edit/?id={permission.id}")
                .get_data(as_text=True)).boxes
    assert sorted(v for v, (checked, _p, _l) in tree.items() if checked) == sorted(
        [orders.id, refund.id])


def test_refund_settle_and_delete_are_marked_sensitive(client, login_as):
    login_as("admin")
    page = client.get("/admin/permissions/new/").get_data(as_text=True)
    for code in ("orders.action.refund", "orders.action.settle", "menus.delete",
                 "users.action.deactivate"):
        resource = Resource.get(Resource.code == code)
        label = re.search(rf'for="resources-{resource.id}">(.*?)</label>', page, re.S).group(1)
        assert "fa-exclamation-triangle" in label, code
    quote = Resource.get(Resource.code == "orders.action.quote")
    label = re.search(rf'for="resources-{quote.id}">(.*?)</label>', page, re.S).group(1)
    assert "fa-exclamation-triangle" not in label


def test_the_tree_script_never_ticks_a_child_for_its_parent():
    script = (STATIC / "console.js").read_text()
    tree_part = script[script.index("// Checkbox trees"):script.index("// The sidebar folds")]
    assert "child.checked = box.checked" not in tree_part
    assert "indeterminate" in tree_part
    assert not re.search(r"descendantBoxes\(item\)\.forEach\(function \(b\) \{ b\.checked = "
                         r"true", tree_part)
