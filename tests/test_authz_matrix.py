"""Every seeded role × every console page, and every role × every button, action, export and
order move (every element resource) under it.

Which role may open which page is the hand-written PAGE_TABLE below, not anything the code
computes: a changed seed grant must change this table. Pages and elements come from the
resources registered in the database, so a page or button another area adds later is
requested without touching this file — or, when nothing here knows how to press it, the
matrix fails and names it."""
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Callable

import flask_login
from api_world import ensure_profiles, place
from flask import url_for
from testkit import csrf_token, login

from console.db import db
from console.models import Order, Resource, Role, User
from console.system import rbac
from console.system.seed import load
from console.views.base import ConsoleModelView, GuardMixin

FORBIDDEN = 403

# ---- who may open which page: written by hand -------------------------------------------
# From seed_data/roles.json, permissions.json and menus.json, and the grants the areas add in
# seed_data/areas/{people,catalogue,orders,api}.json (roles.json alone gives no role any
# people, catalogue or order page). x = may open the page, . = refused (403).
ROLE_COLUMNS = {"SA": "super_admin", "PA": "platform_admin", "DI": "dispatcher",
                "MA": "manager", "FI": "finance", "CS": "customer_service",
                "SU": "supplier_admin", "BU": "butler", "CU": "customer"}
PAGE_TABLE = """
page               SA PA DI MA FI CS SU BU CU
organizations      x  x  x  x  x  .  .  .  .
users              x  x  .  x  .  .  .  .  .
roles              x  x  .  .  .  .  .  .  .
permissions        x  x  .  .  .  .  .  .  .
resources          x  x  .  .  .  .  .  .  .
menus              x  x  .  .  .  .  .  .  .
params             x  x  x  x  .  .  .  .  .
audit              x  x  .  x  .  .  .  .  .
logins             x  x  .  x  .  .  .  .  .
outbox             x  x  .  .  .  x  .  .  .
sms                x  x  .  .  .  x  .  .  .
templates          x  x  .  .  .  x  .  .  .
service_items      x  x  .  x  x  x  x  .  .
pricing_rules      x  x  x  x  x  x  .  .  .
pricing_preview    x  x  x  x  x  x  .  .  .
car_model_import   x  x  .  x  .  .  .  .  .
price_list_import  x  x  .  x  .  .  x  .  .
orders             x  .  x  x  x  x  x  .  .
customers          x  x  .  x  .  x  .  .  .
vehicles           x  x  .  x  .  x  .  .  .
butlers            x  x  x  x  .  x  .  .  .
suppliers          x  x  .  x  x  x  x  .  .
certifications     x  x  .  x  x  x  .  .  .
supplier_staff     x  x  .  .  .  .  x  .  .
reviews            x  x  x  x  .  x  x  .  .
car_models         x  x  x  x  .  x  x  .  .
dispatch           x  x  x  x  .  .  .  .  .
"""


def _parse_table(text):
    header, *rows = [line.split() for line in text.strip().splitlines()]
    roles = [ROLE_COLUMNS[column] for column in header[1:]]
    table = {}
    for page, *marks in rows:
        assert len(marks) == len(roles) and set(marks) <= {"x", "."}, page
        table[page] = {role: mark == "x" for role, mark in zip(roles, marks, strict=True)}
    return roles, table


ROLES, MAY_OPEN = _parse_table(PAGE_TABLE)
DEMO_EMAIL = {row["role"]: row["email"] for row in load("demo_users.json")}


def sign_in(client, role):
    """Staff log in through the form. Butlers and customers are refused there (app-only
    accounts); a session of theirs made by hand must still meet every page's guard."""
    response = login(client, DEMO_EMAIL[role])
    if role not in ("butler", "customer"):
        assert response.status_code == 302, role
        return
    assert response.status_code == 200, role
    account = User.get(User.email == DEMO_EMAIL[role])
    with client.session_transaction() as session:
        session["_user_id"], session["_fresh"] = account.fs_uniquifier, True


def pages_of(role):
    return {page for page, by_role in MAY_OPEN.items() if by_role[role]}


# ---- pressing one element ----------------------------------------------------------------
@dataclass
class Press:
    """One request that uses an element resource. `on_row` requests act on one record (the
    first the user can see); `held` and `refused` say what the answer must be."""
    method: str
    url: Callable[[object], str]  # row id -> URL
    data: Callable[[object], dict] | None = None
    on_row: bool = True
    held: int = 200
    refused: int = FORBIDDEN
    check_body: Callable[[str, bool], str | None] | None = None  # (body, held) -> problem
    gate: str | None = None  # another element of the page whose guard answers the request


def model_view_press(view, name):
    """Flask-Admin's own buttons of a model page."""
    base = view.url.rstrip("/") + "/"
    if name == "create":
        return Press("GET", lambda row: f"{base}new/", on_row=False)
    if name == "edit":
        return Press("GET", lambda row: f"{base}edit/?id={row}")
    if name == "export":
        return Press("GET", lambda row: f"{base}export/{view.export_types[0]}/", on_row=False)
    if name == "delete":
        return Press("POST", lambda row: f"{base}delete/", lambda row: {"id": row}, held=302)
    if name.startswith("action."):
        return Press("POST", lambda row: f"{base}action/",
                     lambda row: {"action": name[len("action."):], "rowid": row}, held=302)
    return None


def view_function_press(app, view, name):
    """An element guarded by GuardMixin._handle_view: a view function of the page that
    `view_elements()` maps to it (a detail page's form, an import's confirm step)."""
    rules = [rule for function, element in view.view_elements().items() if element == name
             and f"{view.endpoint}.{function}" in app.view_functions
             for rule in app.url_map.iter_rules(f"{view.endpoint}.{function}")
             if not rule.arguments]
    if not rules:
        return None
    method, path = ("POST" if "POST" in rules[0].methods else "GET"), rules[0].rule
    if isinstance(view, ConsoleModelView):  # a form on one record's detail page
        return Press(method, lambda row: path, lambda row: {"id": row}, held=302)
    return Press(method, lambda row: path, lambda row: {}, on_row=False)


def order_move_press(name):
    """The move buttons of the order detail page POST to /admin/orders/<id>/act/<move>/;
    `act` checks the element itself. A move the engine refuses is flashed (302)."""
    move = name[len("action."):]
    return Press("POST", lambda row: url_for("orders.act", order_id=row, move=move),
                 lambda row: {}, held=302)


def params_press(name):
    """A confirmed change of a parameter of the element's kind (edit: an operational one,
    edit_sensitive: a security one), or withdrawing a value (none is scheduled: not found)."""
    if name == "withdraw":
        return Press("POST", lambda row: url_for("params.withdraw"), lambda row: {"id": "0"},
                     held=404, on_row=False)
    key = "security.login_lock_minutes" if name == "edit_sensitive" else "dispatch.grab_window"
    return Press("POST", lambda row: url_for(f"params.{name}"),
                 lambda row: {"key": key, "value": "20", "when": "now", "confirm": "1"},
                 held=302, on_row=False)


def dispatch_press(name):
    """Assigning from the board with nothing chosen: held, the refusal is flashed (302)."""
    path = "/admin/dispatch/assign" if name == "assign" else "/admin/dispatch/batch-assign"
    return Press("POST", lambda row: path, lambda row: {}, held=302, on_row=False)


def review_press(name):
    """Service item review buttons POST review/ with the move; review_view checks it."""
    return Press("POST", lambda row: url_for("service_items.review_view"),
                 lambda row: {"action": name, "id": row}, held=302)


def supplier_manage_press():
    """suppliers.manage has no request of its own: it decides whether the edit form carries
    the platform's fields (grade, city, ...). Without it the form drops them, so a POST
    cannot set them either; a role without `edit` gets no form at all."""
    def platform_fields(body, held):
        shown = 'name="grade"' in body
        if shown != held:
            return f"the platform field grade is {'shown' if shown else 'missing'}"
        return None
    return Press("GET", lambda row: f"/admin/suppliers/edit/?id={row}",
                 check_body=platform_fields, gate="edit")


def press_for(app, view, name):
    """How to use element `name` of `view`, or None when this file does not know."""
    if view.endpoint == "orders" and name.startswith("action."):
        return order_move_press(name)
    if view.endpoint == "service_items" and name in ("submit", "approve", "reject"):
        return review_press(name)
    if view.endpoint == "suppliers" and name == "manage":
        return supplier_manage_press()
    if view.endpoint == "params":
        return params_press(name)
    if view.endpoint == "dispatch":
        return dispatch_press(name)
    if isinstance(view, ConsoleModelView):
        press = model_view_press(view, name)
        if press is not None:
            return press
    return view_function_press(app, view, name)


# ---- the records the requests act on -------------------------------------------------------
ROW_MODELS = {"orders": Order}  # custom pages whose elements act on one record


def visible_row(app, view, user):
    """The first record of the page in `user`'s data scope, or None."""
    if view.endpoint in ROW_MODELS:
        model = ROW_MODELS[view.endpoint]
        row = rbac.scoped(model.select(model.id), model, user).order_by(model.id).first()
        return None if row is None else row.id
    if not isinstance(view, ConsoleModelView):
        return None
    with app.test_request_context():
        flask_login.login_user(user)
        row = view.get_query().first()
        return None if row is None else view.get_pk_value(row)


def other_row(view, visible):
    """A record that exists but is not `visible` (or "0" when there is none)."""
    model = ROW_MODELS.get(view.endpoint) or getattr(view, "model", None)
    if model is None:
        return "0"
    key = model._meta.primary_key
    query = model.select(key).order_by(key)
    if visible is not None:
        query = query.where(key != visible)
    row = query.first()
    return "0" if row is None else str(getattr(row, key.name))


@contextmanager
def rolled_back():
    """Run a changing request and undo it, so later requests see the seed."""
    with db.atomic() as transaction:
        yield
        transaction.rollback()


def send(client, method, url, data, token):
    if method == "GET":
        return client.get(url)
    with rolled_back():
        return client.post(url, data={**data, "csrf_token": token})


# ---- the matrix ----------------------------------------------------------------------------
def report(request, line):
    """Show `line` in the session's closing summary, with or without -s (and keep it as a
    property of the test, which pytest-xdist hands back to the controller)."""
    request.node.user_properties.append(("authz_matrix", line))
    print(line)  # under pytest-xdist, -rP shows it: workers have no terminal of their own

    class Summary:
        def pytest_terminal_summary(self, terminalreporter):
            terminalreporter.write_line(line)
    request.config.pluginmanager.register(Summary())


def guarded_views(app):
    return {view.endpoint: view for view in app.extensions["console_admin"]._views
            if isinstance(view, GuardMixin)}


def test_the_seed_grants_each_role_exactly_the_pages_of_the_hand_written_table(app):
    """The seed's roles, grants and menus against PAGE_TABLE, role by role."""
    assert {role.name for role in Role.select()} == set(ROLES)
    pages = {r.code: r.url for r in Resource.select().where(Resource.kind == "page",
                                                            Resource.is_active == True)}  # noqa: E712,E501
    assert set(pages) == set(MAY_OPEN), "PAGE_TABLE must name every page resource"
    by_url = {url: code for code, url in pages.items()}

    def menu_pages(nodes):
        return {by_url[n["url"]] for n in nodes if n["url"]} | {
            page for n in nodes for page in menu_pages(n["children"])}

    wrong = []
    for role in ROLES:
        user = User.get(User.email == DEMO_EMAIL[role])
        grants = rbac.grants_for(user)
        granted = {code for code in pages if grants.allows(code)}
        if granted != pages_of(role):
            wrong.append(f"{role} holds {sorted(granted ^ pages_of(role))} against the table")
        in_menu = menu_pages(rbac.visible_menu(user, "en"))
        if in_menu != pages_of(role):
            wrong.append(f"{role}'s menu differs on {sorted(in_menu ^ pages_of(role))}")
    assert not wrong, "\n".join(wrong)


def test_every_role_gets_exactly_its_answer_from_every_page_and_every_element(app, request):
    """Each role logs in and requests every page, every record's detail view it may open, and
    every element resource of every page — held or not. A refused element answers 403 before
    any record is looked up; a held one does its work (rolled back)."""
    ensure_profiles()  # the supplier, butler and customer demo accounts have their records
    place()  # an order of the demo customer at the demo shop: the move buttons act on it
    views = guarded_views(app)
    pages = list(Resource.select().where(Resource.kind == "page", Resource.is_active == True)  # noqa: E712,E501
                 .order_by(Resource.code))
    elements = {page.code: list(page.children.where(Resource.kind == "element",
                                                    Resource.is_active == True)  # noqa: E712
                                .order_by(Resource.code)) for page in pages}
    element_count = sum(len(found) for found in elements.values())
    assert {page.code for page in pages} == set(MAY_OPEN), "PAGE_TABLE must name every page"
    assert set(views) == set(MAY_OPEN), "every page resource has its guarded view"

    wrong, page_cases, element_cases, no_row = [], 0, 0, []
    for role in ROLES:
        client = app.test_client()
        sign_in(client, role)
        user = User.get(User.email == DEMO_EMAIL[role])
        grants = rbac.grants_for(user)
        token = csrf_token(client, "/admin/")
        for page in pages:
            may_open = MAY_OPEN[page.code][role]
            view = views[page.code]
            status = client.get(page.url).status_code
            page_cases += 1
            if status != (200 if may_open else FORBIDDEN):
                wrong.append(f"{role}: GET {page.url} → {status} (may open: {may_open})")
            visible = visible_row(app, view, user)
            if may_open and visible is not None and isinstance(view, ConsoleModelView) \
                    and view.can_view_details:
                url = f"{page.url}details/?id={visible}"
                status = client.get(url).status_code
                if status != 200:
                    wrong.append(f"{role}: GET {url} → {status}")
            other = other_row(view, visible)
            # a refusal acts on a record the user can see when there is one, so that nothing
            # but the element's guard can refuse it (not "not found")
            target = visible if visible is not None else other
            for element in elements[page.code]:
                name = element.code[len(page.code) + 1:]
                press = press_for(app, view, name)
                if press is None:
                    wrong.append(f"{element.code}: no request built: teach press_for() how "
                                 f"to press it")
                    continue
                held = may_open and grants.allows(element.code)
                gate = f"{page.code}.{press.gate}" if press.gate else element.code
                if not (may_open and grants.allows(gate)):
                    row, expected = target, press.refused
                elif not press.on_row or visible is not None:
                    row, expected = visible, press.held
                else:  # held, but nothing in scope to act on: the record is not found
                    row, expected = other, 404
                    no_row.append(f"{role}:{element.code}")
                with app.test_request_context():
                    url = press.url(row)
                response = send(client, press.method, url, press.data(row) if press.data
                                else None, token)
                element_cases += 1
                status = response.status_code
                problem = None
                if status != expected:
                    problem = f"→ {status}, expected {expected}"
                elif press.check_body and status == 200:
                    problem = press.check_body(response.get_data(as_text=True), held)
                if problem:
                    wrong.append(f"{role}: {element.code}: {press.method} {url} {problem} "
                                 f"(held: {held})")
    backend = request.node.callspec.id if hasattr(request.node, "callspec") else ""
    line = (f"authz matrix [{backend}]: requested {element_cases} (role, page, element) "
            f"cases = {element_count} element resources × {len(ROLES)} roles, and "
            f"{page_cases} (role, page) cases; {len(wrong)} wrong; held without a record in "
            f"scope (404 expected): {', '.join(no_row) or 'none'}")
    report(request, line)
    assert not wrong, f"{len(wrong)} answers differ:\n" + "\n".join(wrong) + "\n" + line
    assert element_cases == element_count * len(ROLES), line
    assert page_cases == len(pages) * len(ROLES), line
