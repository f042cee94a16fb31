"""The order console pages as staff use them: the list with names and a total, keyset paging,
filters and search, data scope, the detail page's buttons, the move endpoints and the printable
work order. One database per backend for the module (300 demo orders); each test's changes are
rolled back."""
import datetime as dt
import html
import re

import pytest
import testkit
from flask_security.utils import hash_password
from order_factories import World, make_user, org, rolled_back
from peewee import fn

from console import orders
from console.db import db
from console.models import Customer, Order, OrderEvent, Supplier, User, Vehicle
from console.orders import demo as demo_orders
from console.orders import lists as order_list
from console.system import rbac

PASSWORD = testkit.PASSWORD


@pytest.fixture(scope="module")
def shared_app(backend, tmp_path_factory):
    with testkit.database_copy(backend, tmp_path_factory.mktemp("order_pages")) as url:
        app = testkit.make_app(url, CONSOLE_LOGIN_CAPTCHA=False)
        with db.connection_context():
            with app.app_context():
                demo_orders.generate(300, seed=11, echo=lambda *a: None)
                app.password_hash = hash_password(PASSWORD)
            yield app
        db.close()


@pytest.fixture
def app(shared_app):
    # a rolled-back test leaves the RBAC version where it found it, so the next test's bump
    # would repeat a version number the per-process cache already holds: start clean
    rbac.forget()
    with rolled_back():  # no app context here: each request must get its own `g`
        yield shared_app


def staff(app, role, organization):
    """A staff account that can sign in through the login form."""
    user = make_user(role, organization)
    User.update(password=app.password_hash).where(User.id == user.id).execute()
    return user


def page_of(client, path):
    response = client.get(path)
    assert response.status_code == 200, response.get_data(as_text=True)[:1500]
    return response.get_data(as_text=True)


def row_ids(text):
    return [int(i) for i in re.findall(r'data-order-id="(\d+)"', text)]


def link(text, key):
    match = re.search(rf'class="page-link page-{key}" href="([^"#][^"]*)"', text)
    return html.unescape(match.group(1)) if match else None


def newest_first(query):
    return [o.id for o in query.order_by(Order.placed_at.desc(), Order.id.desc())]


def buttons(text):
    return sorted(re.findall(r'id="move-(\w+)"', text))


# ---- the list --------------------------------------------------------------------------
@pytest.fixture(autouse=True)
def exact_totals(monkeypatch):
    """Totals here are checked exactly: a loaded CI machine must not run out of the 2 ms
    counting budget that makes the page say "100+"."""
    monkeypatch.setattr(order_list, "COUNT_BUDGET_S", 5.0)


def test_the_list_shows_orders_with_customer_supplier_and_butler_names_and_the_total(
        client, login_as):
    login_as("customer_service")
    text = page_of(client, "/admin/orders/")
    assert "300" in re.search(r'id="order-total">(.*?)</div>', text, re.S).group(1)
    first = Order.get_by_id(row_ids(text)[0])
    assert first.id == newest_first(Order.select())[0]
    assert first.order_no in text and first.customer.name in text
    named = Order.select().where(Order.id.in_(row_ids(text)))
    for order in named:
        if order.supplier_id:
            assert order.supplier.name in text
        if order.butler_id:
            assert order.butler.name in text


def test_next_and_previous_pages_are_consecutive_disjoint_pages_in_order(client, login_as):
    login_as("customer_service")
    expected = newest_first(Order.select())
    first = page_of(client, "/admin/orders/")
    second = page_of(client, link(first, "next"))
    third = page_of(client, link(second, "next"))
    assert row_ids(first) + row_ids(second) + row_ids(third) == expected[:60]
    assert row_ids(page_of(client, link(third, "prev"))) == row_ids(second)
    assert row_ids(page_of(client, link(second, "prev"))) == row_ids(first)
    assert link(first, "prev") is None and link(first, "first") is None
    last = page_of(client, link(first, "last"))
    assert row_ids(last) == expected[-20:] and link(last, "next") is None
    assert row_ids(page_of(client, link(last, "first"))) == row_ids(first)


def test_paging_keeps_the_filters(client, login_as):
    login_as("customer_service")
    expected = newest_first(Order.select().where(Order.order_type == "maintenance"))
    first = page_of(client, "/admin/orders/?order_type=maintenance")
    second = page_of(client, link(first, "next"))
    assert row_ids(first) + row_ids(second) == expected[:40]


@pytest.mark.parametrize("args, condition", [
    ("order_type=detailing&status=closed",
     lambda: (Order.order_type == "detailing") & (Order.status == "closed")),
    ("status=cancelled", lambda: Order.status == "cancelled"),
    ("amount_min=100&amount_max=500.50",
     lambda: (fn.COALESCE(Order.final_fen, Order.estimate_fen) >= 10000) &
     (fn.COALESCE(Order.final_fen, Order.estimate_fen) <= 50050)),
])
def test_filters_list_exactly_the_matching_orders(client, login_as, args, condition):
    login_as("customer_service")
    expected = newest_first(Order.select().where(condition()))
    assert expected, "the demo data should hold such orders"
    text = page_of(client, f"/admin/orders/?{args}")
    assert row_ids(text) == expected[:20]
    assert f"{len(expected)}" in re.search(r'id="order-total">(.*?)</div>', text, re.S).group(1)


def test_city_supplier_butler_and_date_filters(client, login_as):
    login_as("customer_service")
    sample = Order.select().where(Order.butler.is_null(False), Order.supplier.is_null(False)
                                  ).order_by(Order.id).first()
    for args, condition in [
            (f"city={sample.city_id}", Order.city == sample.city_id),
            (f"supplier={sample.supplier_id}", Order.supplier == sample.supplier_id),
            (f"butler={sample.butler_id}", Order.butler == sample.butler_id)]:
        assert row_ids(page_of(client, f"/admin/orders/?{args}")) == \
            newest_first(Order.select().where(condition))[:20]
    local_day = (sample.placed_at + dt.timedelta(hours=8)).date()
    start = dt.datetime.combine(local_day, dt.time()) - dt.timedelta(hours=8)
    text = page_of(client, f"/admin/orders/?date_from={local_day}&date_to={local_day}")
    assert row_ids(text) == newest_first(Order.select().where(
        Order.placed_at >= start, Order.placed_at < start + dt.timedelta(days=1)))[:20]
    assert sample.id in row_ids(text) or len(row_ids(text)) == 20


def test_a_bad_filter_value_is_named_beside_its_field_and_nothing_is_listed(client, login_as):
    login_as("customer_service")
    text = page_of(client, "/admin/orders/?amount_min=12.345&order_type=spaceship&lang=en")
    assert 'class="alert alert-danger' not in text
    assert sorted(re.findall(r'filter-problem" data-field="(\w+)"', text)) == [
        "amount_min", "order_type"]
    assert row_ids(text) == [] and 'id="search-hint"' in text


@pytest.mark.parametrize("kind", ["plate", "mobile", "order_no", "order_no_prefix",
                                  "service_code"])
def test_search_by_plate_mobile_order_number_and_service_code(client, login_as, kind):
    login_as("customer_service")
    order = Order.select().where(Order.vehicle.is_null(False), Order.is_open == True  # noqa: E712
                                 ).order_by(Order.id).first() or \
        Order.select().where(Order.vehicle.is_null(False)).first()
    vehicle, customer = Vehicle.get_by_id(order.vehicle_id), Customer.get_by_id(order.customer_id)
    query, condition = {
        "plate": (vehicle.plate, Order.vehicle == vehicle.id),
        "mobile": (customer.mobile, Order.customer == customer.id),
        "order_no": (order.order_no.lower(), Order.id == order.id),
        "order_no_prefix": (order.order_no[:9], Order.order_no.startswith(order.order_no[:9])),
        "service_code": (order.service_code, Order.service_code == order.service_code),
    }[kind]
    text = page_of(client, f"/admin/orders/?q={query}")
    assert row_ids(text) == newest_first(Order.select().where(condition))[:20]
    assert order.id in row_ids(text) or len(row_ids(text)) == 20


def test_search_text_of_no_known_kind_says_what_to_type(client, login_as):
    login_as("customer_service")
    text = page_of(client, "/admin/orders/?q=hello!")
    assert 'class="alert alert-danger' not in text and 'id="search-hint"' in text
    assert row_ids(text) == [] and "8" in text
    text = page_of(client, "/admin/orders/?q=13000000000")
    assert row_ids(text) == [] and 'id="no-orders"' in text


def test_rendering_a_page_runs_the_same_few_queries_for_twenty_rows_as_for_two(
        client, login_as, monkeypatch):
    login_as("customer_service")
    customer_id = (Order.select(Order.customer).group_by(Order.customer)
                   .having(fn.COUNT(Order.id).between(2, 19)).scalar())
    mobile = Customer.get_by_id(customer_id).mobile
    counted = []
    original = db.obj.execute_sql

    def counting(sql, params=None, *args, **kwargs):
        if not sql.startswith("FETCH"):  # batches of one PostgreSQL cursor: one query
            counted.append(sql)
        return original(sql, params, *args, **kwargs)
    page_of(client, "/admin/orders/")  # warm the per-process caches (RBAC grants, menus)
    monkeypatch.setattr(db.obj, "execute_sql", counting)
    full = row_ids(page_of(client, "/admin/orders/?order_type=maintenance"))
    twenty = len(counted)
    counted.clear()
    few = row_ids(page_of(client, f"/admin/orders/?q={mobile}"))
    assert len(full) == 20 and 2 <= len(few) < 20
    assert len(counted) == twenty + 1, counted  # the same, plus the mobile → customer lookup
    assert twenty <= 16  # login, RBAC and schema checks, the rows, the total (a few on PostgreSQL)


# ---- data scope --------------------------------------------------------------------------
def test_a_shanghai_dispatcher_sees_only_shanghai_orders_and_no_other_city(
        app, client, login_as):
    login_as(staff(app, "dispatcher", org("SH")).email)
    shanghai = org("SH").id
    text = page_of(client, "/admin/orders/")
    assert row_ids(text) == newest_first(Order.select().where(Order.city == shanghai))[:20]
    elsewhere = Order.select().where(Order.city != shanghai).first()
    assert client.get(f"/admin/orders/{elsewhere.id}/").status_code == 404
    assert client.get(f"/admin/orders/{elsewhere.id}/work-order/").status_code == 404
    assert row_ids(page_of(client, f"/admin/orders/?q={elsewhere.order_no}")) == []


def test_a_supplier_admin_sees_only_the_orders_of_their_supplier(app, client, login_as):
    supplier = Supplier.get_by_id(Order.select(Order.supplier).where(
        Order.supplier.is_null(False)).order_by(Order.id).first().supplier_id)
    user = staff(app, "supplier_admin", supplier.organization)
    login_as(user.email)
    text = page_of(client, "/admin/orders/")
    assert row_ids(text) == newest_first(Order.select().where(Order.supplier == supplier.id))[:20]
    other = Order.select().where(Order.supplier != supplier.id).first()
    assert client.get(f"/admin/orders/{other.id}/").status_code == 404
    lookup = client.get("/admin/orders/lookup/supplier/").get_json()
    assert [row[0] for row in lookup] == [supplier.id]


def test_roles_without_the_order_pages_are_refused(client, login_as):
    login_as("platform")
    assert client.get("/admin/orders/").status_code == 403
    assert client.get(f"/admin/orders/{Order.select().first().id}/").status_code == 403


# ---- detail, buttons and moves -----------------------------------------------------------
@pytest.fixture
def shanghai(app):
    """A fresh Shanghai world whose shop admin and dispatcher can sign in."""
    w = World.build()
    w.supplier_user = staff(app, "supplier_admin", w.supplier.organization)
    w.sh_dispatcher = staff(app, "dispatcher", org("SH"))
    return w


@pytest.mark.parametrize("status, expected", [
    ("awaiting_grab", {"customer_service": ["cancel"], "dispatcher": ["assign"],
                       "supplier": [], "manager": []}),
    ("at_shop", {"customer_service": ["cancel"], "dispatcher": [], "supplier": ["quote"],
                 "manager": []}),
    ("returned", {"customer_service": ["close", "refund", "request_rework"], "dispatcher": [],
                  "supplier": [], "manager": []}),
])
def test_the_detail_page_shows_exactly_the_moves_each_role_may_make_now(
        app, shanghai, status, expected):
    order = shanghai.order("maintenance", status=status, needs_butler=True)
    people = {"customer_service": "service@demo.local", "manager": "manager@demo.local",
              "dispatcher": shanghai.sh_dispatcher.email,
              "supplier": shanghai.supplier_user.email}
    for role, identity in people.items():
        client = app.test_client()
        assert testkit.login(client, identity).status_code == 302
        text = page_of(client, f"/admin/orders/{order.id}/")
        assert buttons(text) == sorted(expected[role]), role
        user = User.get(User.email == identity)
        assert set(buttons(text)) <= set(orders.available_actions(order, user))
        assert order.order_no in text and shanghai.customer.name in text


def test_the_detail_page_shows_the_timeline_lines_vehicle_and_people(client, login_as):
    order = Order.select().where(Order.status == "closed", Order.order_type == "maintenance",
                                 Order.butler.is_null(False)).first()
    login_as("customer_service")
    text = page_of(client, f"/admin/orders/{order.id}/")
    events = list(OrderEvent.select().where(OrderEvent.order == order.id))
    assert len(re.findall(r'class="list-group-item small timeline-event"', text)) == len(events)
    assert order.vehicle.plate in text and order.butler.name in text
    assert order.supplier.name in text and 'id="lines-final"' in text


def test_a_move_button_posts_the_move_and_the_order_changes_with_its_event(
        client, login_as, shanghai, form_token):
    order = shanghai.order("maintenance", status="awaiting_grab", needs_butler=True)
    login_as("customer_service")
    token = form_token(f"/admin/orders/{order.id}/")
    response = client.post(f"/admin/orders/{order.id}/act/cancel/",
                           data={"csrf_token": token, "reason": "客户来电取消"},
                           follow_redirects=True)
    assert response.status_code == 200
    order = Order.get_by_id(order.id)
    assert order.status == "cancelled" and not order.is_open
    event = OrderEvent.select().where(OrderEvent.order == order.id).order_by(
        OrderEvent.id.desc()).first()
    assert (event.action, event.note, event.actor_role) == ("cancel", "客户来电取消",
                                                            "customer_service")


def test_a_move_the_order_does_not_allow_now_is_refused_with_the_reason(
        client, login_as, shanghai, form_token):
    order = shanghai.order("maintenance", status="awaiting_grab", needs_butler=True)
    login_as("customer_service")
    token = form_token(f"/admin/orders/{order.id}/")
    text = client.post(f"/admin/orders/{order.id}/act/close/", data={"csrf_token": token},
                       follow_redirects=True).get_data(as_text=True)
    assert order.order_no in text and 'alert alert-danger' in text
    assert Order.get_by_id(order.id).status == "awaiting_grab"


def test_a_move_without_its_button_permission_answers_403_and_changes_nothing(
        client, login_as, shanghai, form_token):
    order = shanghai.order("maintenance", status="awaiting_grab", needs_butler=True)
    login_as("manager")
    token = form_token(f"/admin/orders/{order.id}/")
    response = client.post(f"/admin/orders/{order.id}/act/cancel/",
                           data={"csrf_token": token, "reason": "x"})
    assert response.status_code == 403
    assert Order.get_by_id(order.id).status == "awaiting_grab"


def test_a_move_post_without_the_csrf_token_is_refused(client, login_as, shanghai):
    order = shanghai.order("maintenance", status="awaiting_grab", needs_butler=True)
    login_as("customer_service")
    response = client.post(f"/admin/orders/{order.id}/act/cancel/", data={"reason": "x"})
    assert response.status_code == 400
    assert Order.get_by_id(order.id).status == "awaiting_grab"


def test_a_shop_quotes_from_the_detail_page_and_the_lines_add_up(
        client, login_as, shanghai, form_token):
    order = shanghai.order("maintenance", status="at_shop", needs_butler=True)
    login_as(shanghai.supplier_user.email)
    token = form_token(f"/admin/orders/{order.id}/")
    client.post(f"/admin/orders/{order.id}/act/quote/", data={
        "csrf_token": token, "line-0-kind": "labour", "line-0-name": "更换刹车片",
        "line-0-qty": "1", "line-0-unit": "120.00", "line-1-kind": "part",
        "line-1-name": "刹车片", "line-1-qty": "2", "line-1-unit": "215.50"})
    order = Order.get_by_id(order.id)
    assert order.status == "quoted" and order.final_fen == 12000 + 2 * 21550
    text = client.post(f"/admin/orders/{order.id}/act/quote/", data={
        "csrf_token": token, "line-0-kind": "part", "line-0-name": "x",
        "line-0-unit": "1.005"}, follow_redirects=True).get_data(as_text=True)
    assert 'alert alert-danger' in text and Order.get_by_id(order.id).final_fen == 55100


def test_the_work_order_prints_the_order_the_car_and_the_work(client, login_as):
    order = Order.select().where(Order.status == "closed", Order.order_type == "maintenance",
                                 Order.vehicle.is_null(False)).first()
    login_as("customer_service")
    text = page_of(client, f"/admin/orders/{order.id}/work-order/")
    assert order.order_no in text and order.vehicle.plate in text
    assert "@media print" in text and 'id="work-order-lines"' in text
    assert order.customer.name in text


def test_a_dispatcher_assigns_a_waiting_order_to_a_butler_of_its_city(
        client, login_as, shanghai, form_token):
    order = shanghai.order("maintenance", status="awaiting_grab", needs_butler=True)
    login_as(shanghai.sh_dispatcher.email)
    text = page_of(client, f"/admin/orders/{order.id}/")
    assert f'<option value="{shanghai.butler.id}">' in text
    client.post(f"/admin/orders/{order.id}/act/assign/", data={
        "csrf_token": form_token(f"/admin/orders/{order.id}/"), "butler": shanghai.butler.id,
        "reason": "超时无人抢单"})
    order = Order.get_by_id(order.id)
    assert (order.status, order.butler_id) == ("assigned", shanghai.butler.id)
