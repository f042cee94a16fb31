"""Every seeded role × every console page and every button, action and export under it.

Nothing here is hand-picked: roles come from seed_data/roles.json, pages and elements from the
resources registered in the database, and the expected answer from `rbac.grants_for` of the
role's demo user. A page another area adds later is covered without touching this file."""
from contextlib import contextmanager

import flask_login
import pytest

from console.db import db
from console.system import rbac
from console.system.models import Resource, User
from console.system.seed import load
from console.views.base import ConsoleModelView, GuardMixin

ROLES = [row["name"] for row in load("roles.json")]
DEMO_EMAIL = {row["role"]: row["email"] for row in load("demo_users.json")}
FORBIDDEN = 403


@contextmanager
def rolled_back():
    """Run a changing request (delete, action) and undo it, so later checks see the seed."""
    with db.atomic() as transaction:
        yield
        transaction.rollback()


def first_visible_row(app, view, user):
    """The first row of the page's list in the user's data scope, or None when it is empty."""
    with app.test_request_context():
        flask_login.login_user(user)
        row = view.get_query().first()
        return None if row is None else view.get_pk_value(row)


def element_requests(app, view, page, element, row_id):
    """[(method, url, form data, expected when held)] for one element resource."""
    url = page.url
    name = element.code[len(page.code) + 1:]
    if isinstance(view, ConsoleModelView):
        if name == "create":
            return [("GET", f"{url}new/", None, 200)]
        if name == "edit":
            # an empty table has no row to open: nothing to check for a role that may edit
            return [("GET", f"{url}edit/?id={row_id}", None, 200)] if row_id else []
        if name == "export":
            return [("GET", f"{url}export/{view.export_types[0]}/", None, 200)]
        if name == "delete":
            return [("POST", f"{url}delete/", {"id": row_id or "0"}, 302)]
        if name.startswith("action."):
            data = {"action": name[len("action."):]}
            if row_id:
                data["rowid"] = row_id
            return [("POST", f"{url}action/", data, 302)]
    # a custom element: the view method of the same name (ConsolePage.view_elements)
    endpoint = f"{view.endpoint}.{name}"
    for rule in app.url_map.iter_rules(endpoint) if endpoint in app.view_functions else []:
        if not rule.arguments:
            method = "GET" if "GET" in rule.methods else "POST"
            return [(method, rule.rule, {} if method == "POST" else None, None)]
    return []  # no argument-free route to call: covered by the page's own tests


def check(client, method, url, data, token, expected):
    if method == "GET":
        response = client.get(url)
    else:
        with rolled_back():
            response = client.post(url, data={**data, "csrf_token": token})
    status = response.status_code
    if expected is None:  # custom element held: anything but a refusal or a crash
        return status != FORBIDDEN and status < 500, status
    return status == expected, status


@pytest.mark.parametrize("role", ROLES)
def test_each_role_reaches_exactly_the_pages_and_buttons_its_grants_allow(
        app, client, login_as, form_token, role):
    login_as(role)
    user = User.get(User.email == DEMO_EMAIL[role])
    grants = rbac.grants_for(user)
    token = form_token("/admin/")
    views = {v.endpoint: v for v in app.extensions["console_admin"]._views
             if isinstance(v, GuardMixin)}
    pages = list(Resource.select().where(Resource.kind == "page", Resource.is_active == True)  # noqa: E712,E501
                 .order_by(Resource.code))
    assert pages, "no page resources registered"
    wrong, checked = [], 0
    for page in pages:
        page_held = grants.allows(page.code)
        ok, status = check(client, "GET", page.url, None, token, 200 if page_held else FORBIDDEN)
        checked += 1
        if not ok:
            wrong.append(f"{page.url} → {status} (page held: {page_held})")
        view = views.get(page.code)
        if view is None:
            continue
        row_id = first_visible_row(app, view, user) if isinstance(view, ConsoleModelView) \
            else None
        if page_held and row_id and getattr(view, "can_view_details", False):
            ok, status = check(client, "GET", f"{page.url}details/?id={row_id}", None, token, 200)
            checked += 1
            if not ok:
                wrong.append(f"{page.url}details/ → {status}")
        elements = page.children.where(Resource.kind == "element", Resource.is_active == True)  # noqa: E712,E501
        for element in elements:
            held = page_held and grants.allows(element.code)
            target = row_id if held else (row_id or "1")  # any id is refused alike
            for method, url, data, when_held in element_requests(app, view, page, element,
                                                                  target):
                ok, status = check(client, method, url, data, token,
                                   when_held if held else FORBIDDEN)
                checked += 1
                if not ok:
                    wrong.append(f"{element.code}: {method} {url} → {status} (held: {held})")
    assert not wrong, f"{role}: {len(wrong)} of {checked} answers differ:\n" + "\n".join(wrong)
    assert checked > len(pages)
