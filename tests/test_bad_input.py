"""No input ever answers 500 (DESIGN §5): ids beyond 64 bits, JSON nested a thousand deep,
bodies of many megabytes, text no database stores, photo ids of other people's files,
duplicate items, and every error under /api/ in the JSON error shape."""
import base64
import io
import json
import re

import pytest
from api_client import ApiClient, validate
from api_world import (
    BUTLER,
    CUSTOMER,
    PLATFORM,
    SUPPLIER,
    approved_item,
    at_shop,
    ensure_profiles,
    in_repair,
    my_car,
    offered_type,
    open_slot,
    place,
    shop,
    user,
)
from flask import url_for

from console import api as api_module
from console import orders
from console.common.bounds import MAX_ID
from console.models import Order, ProgressReport, UploadedFile
from console.orders.engine import OrderInputError
from console.people import uploads
from console.people.demo import demo_pdf
from console.views.base import ConsoleModelView

HUGE_IDS = (2**63, 2**64, 10**30)
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x00" * 200
ERROR_SHAPE = {"$ref": "#/components/schemas/Error"}
ROLE_OF_TAG = {"customer": CUSTOMER, "orders": CUSTOMER, "butler": BUTLER,
               "supplier": SUPPLIER, "sync": PLATFORM, "session": CUSTOMER}
_RULE_INT = re.compile(r"<int:(\w+)>")


@pytest.fixture
def api(app, client):
    ensure_profiles()
    return ApiClient(app, client, language="en")


@pytest.fixture
def no_propagation(app):
    """Let the app answer its own 500 (tests propagate exceptions by default)."""
    app.config["PROPAGATE_EXCEPTIONS"] = False


def json_error(response, status, code=None):
    """`response` is the JSON error shape with `status` (and `code`)."""
    assert response.status_code == status, (status, response.status_code,
                                            response.get_data(as_text=True)[:300])
    assert response.is_json, response.get_data(as_text=True)[:300]
    assert set(response.json) == {"error"} and response.json["error"]["message"]
    if code:
        assert response.json["error"]["code"] == code, response.json
    return response.json["error"]


def body_of(endpoint):
    return {} if endpoint.body is not None else None


# ---- ids beyond 64 bits -------------------------------------------------------------------
def test_ids_beyond_64_bits_in_any_api_path_answer_404_in_the_json_shape(api):
    with_ids = [e for e in api_module.ENDPOINTS if _RULE_INT.search(e.rule)]
    assert len(with_ids) >= 15  # every order, task, report and supplier route
    callers = {who: api.as_(who) for who in set(ROLE_OF_TAG.values())}
    for endpoint in with_ids:
        caller = callers[ROLE_OF_TAG[endpoint.tag]]
        for huge in HUGE_IDS:
            path = "/api/v1" + _RULE_INT.sub(str(huge), endpoint.rule)
            response = caller.call(endpoint.method, path, json=body_of(endpoint))
            json_error(response, 404, "not_found")
        largest = "/api/v1" + _RULE_INT.sub(str(MAX_ID), endpoint.rule)  # fits: no such row
        assert caller.call(endpoint.method, largest, json=body_of(endpoint)).status_code in (
            404, 422), endpoint.rule


def test_huge_keyset_and_sync_cursors_answer_422_naming_the_cursor(api):
    customer, butler, platform = api.as_(CUSTOMER), api.as_(BUTLER), api.as_(PLATFORM)
    for huge in HUGE_IDS:
        for caller, path in ((customer, "/api/v1/orders"), (butler, "/api/v1/tasks")):
            error = json_error(caller.get(path, query={"cursor": str(huge)}), 422, "invalid")
            assert error["field"] == "cursor"
    largest = customer.get("/api/v1/orders", query={"cursor": "999999999999999999"})
    assert largest.status_code == 200
    for moment, row_id in (("2026-01-01T00:00:00", 2**64), ("2026-01-01T00:00:00", 1e999),
                           ("2026-01-01T00:00:00", -1), ("9999-12-31T23:59:59-12:00", 1)):
        raw = json.dumps([moment, row_id]).replace("1e+999", "1e999").encode()
        cursor = base64.urlsafe_b64encode(raw).decode().rstrip("=")
        for path in ("/api/v1/sync/orders", "/api/v1/sync/users"):
            error = json_error(platform.get(path, query={"cursor": cursor}), 422, "invalid")
            assert error["field"] == "cursor"


def test_huge_ids_in_request_bodies_answer_422_naming_the_field(api):
    customer, staff = api.as_(CUSTOMER), api.as_(SUPPLIER)
    supplier = shop()
    order_type = offered_type(supplier)
    base = {"order_type": order_type, "vehicle_id": my_car().id, "supplier_id": supplier.id,
            "item_ids": [approved_item(supplier, order_type).id]}
    before = Order.select().count()
    for huge in HUGE_IDS:
        for field, value in (("vehicle_id", huge), ("supplier_id", huge), ("slot_id", huge),
                             ("item_ids", [huge])):
            error = json_error(customer.post("/api/v1/orders", json={**base, field: value}),
                               422, "invalid")
            assert error["field"].split(".")[0] == field
    assert Order.select().count() == before
    order = place()
    error = json_error(customer.post(f"/api/v1/orders/{order.id}/appointment",
                                     json={"slot_id": 2**64}), 422)
    assert error["field"] == "slot_id"
    in_repair(order)
    error = json_error(staff.post(f"/api/v1/supplier/orders/{order.id}/progress",
                                  json={"text": "x", "photos": [2**63]}), 422)
    assert error["field"].startswith("photos")


def test_the_document_bounds_every_integer_and_path_id_by_2_63_minus_1(api):
    document = api.document
    found = []

    def walk(node):
        if isinstance(node, dict):
            types = node.get("type")
            if types == "integer" or (isinstance(types, list) and "integer" in types):
                found.append(node)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)
    walk(document)
    assert len(found) > 50
    unbounded = [node for node in found
                 if node.get("maximum", MAX_ID + 1) > MAX_ID and "enum" not in node]
    assert not unbounded, unbounded[:3]
    cursor = document["paths"]["/api/v1/orders"]["get"]["parameters"]
    assert any(p["name"] == "cursor" and p["schema"]["maxLength"] == 18 for p in cursor)


def _model_views(app):
    for admin in app.extensions["admin"]:
        for view in admin._views:
            if isinstance(view, ConsoleModelView):
                yield view


def test_huge_ids_in_console_urls_and_list_actions_answer_404(app, client, login_as,
                                                             form_token):
    login_as("admin@demo.local")
    token = form_token("/admin/")
    pages, actions = [], []
    with app.test_request_context():
        for view in _model_views(app):
            for huge in (2**64, 10**30):
                if view.can_view_details:
                    pages.append(url_for(f"{view.endpoint}.details_view", id=huge))
                if view.supports_edit:
                    pages.append(url_for(f"{view.endpoint}.edit_view", id=huge))
            names = [name for name, _text in view._actions if name != "delete"]
            if names:
                actions.append((url_for(f"{view.endpoint}.action_view"), names[0]))
        for huge in HUGE_IDS:
            pages += [f"/admin/orders/{huge}/", f"/admin/orders/{huge}/work-order/",
                      f"/admin/files/{huge}"]
    assert len(pages) > 40 and len(actions) >= 3
    for page in pages:
        assert client.get(page).status_code == 404, page
    for path, action in actions:
        response = client.post(path, data={"action": action, "rowid": [str(2**64)],
                                           "csrf_token": token})
        assert response.status_code == 404, (path, action, response.status_code)
    response = client.post(f"/admin/orders/{2**64}/act/cancel/",
                           data={"reason": "x", "csrf_token": token})
    assert response.status_code == 404


def test_huge_or_negative_pages_offsets_and_form_ids_in_the_console_answer_no_500(
        app, client, login_as, form_token, no_propagation):
    task = place(needs_butler=True)
    login_as("admin@demo.local")
    token = form_token("/admin/")
    for page in ("/admin/users/", "/admin/suppliers/", "/admin/audit/"):
        for number in (2**64, 2**63, -3):
            assert client.get(f"{page}?page={number}").status_code == 200, (page, number)
    for query in (f"offset={2**64}", f"limit={2**64}", "offset=-5&limit=-5"):
        response = client.get(f"/admin/users/ajax/lookup/?name=organization&query=a&{query}")
        assert response.status_code == 200, (query, response.status_code)
    assert client.get(f"/admin/pricing_rules/new/?copy={2**64}").status_code == 200
    refused = client.post(f"/admin/orders/{task.id}/act/assign/", data={
        "butler": str(2**64), "reason": "最近", "csrf_token": token})
    assert refused.status_code == 302 and Order.get_by_id(task.id).butler_id is None


# ---- deep JSON, big bodies, long addresses and headers -----------------------------------
DEEP = "[" * 1000 + "]" * 1000
BEYOND_LIMIT = "[" * 40 + "]" * 40  # parses, but deeper than any body we take


@pytest.mark.parametrize("body", [DEEP, BEYOND_LIMIT, '{"a": ' * 900 + "1" + "}" * 900])
def test_json_nested_too_deep_answers_400_on_every_route_even_anonymous(api, client, body):
    token = api.as_(CUSTOMER).token
    for method, path in (("POST", "/api/v1/orders"), ("GET", "/api/v1/me"),
                         ("POST", "/api/v1/tasks/1/grab"), ("GET", "/api/v1/no-such-route")):
        for headers in ({}, {"Authentication-Token": token}):
            response = client.open(path, method=method, data=body, headers=headers,
                                   content_type="application/json")
            json_error(response, 400, "bad_request")
            validate(ERROR_SHAPE, response.json, api.document)
    for path in ("/login", "/login?include_auth_token", "/admin/", "/admin/orders/"):
        response = client.post(path, data=body, content_type="application/json")
        assert response.status_code == 400, (path, response.status_code)


class CountingStream(io.RawIOBase):
    """A request body of `size` bytes that counts what is read of it."""

    def __init__(self, size):
        self.size, self.read_bytes = size, 0

    def readable(self):
        return True

    def readinto(self, buffer):
        count = min(len(buffer), self.size - self.read_bytes)
        buffer[:count] = b"[" * count
        self.read_bytes += count
        return count


def test_a_body_over_1_mb_answers_413_without_being_read(api, client):
    token = api.as_(CUSTOMER).token
    for path, content_type in (("/api/v1/orders", "application/json"),
                               ("/api/v1/me", "application/json"),
                               ("/api/v1/orders", "text/plain"),
                               ("/login", "application/json"),
                               ("/login", "application/x-www-form-urlencoded"),
                               ("/admin/suppliers/upload/", "multipart/form-data; boundary=x")):
        stream = CountingStream(100 * 2**20)
        response = client.post(path, content_type=content_type,
                               headers={"Authentication-Token": token},
                               environ_overrides={"wsgi.input": stream,
                                                  "CONTENT_LENGTH": str(stream.size)})
        assert response.status_code == 413, (path, content_type, response.status_code)
        assert stream.read_bytes == 0, (path, stream.read_bytes)
        if path.startswith("/api/"):
            json_error(response, 413, "too_large")
    padded = {"order_type": "maintenance", "note": "x" * (2**20)}  # just over, and declared
    json_error(api.as_(CUSTOMER).post("/api/v1/orders", json=padded), 413, "too_large")


def test_uploads_keep_their_own_limit_above_the_1_mb_of_forms(client, login_as, form_token):
    from console.models import Supplier, SupplierDocument
    own = Supplier.get(Supplier.code == "SH001")
    login_as("supplier")

    def upload(size):
        body = demo_pdf("SH001") + b"\n%" + b"x" * (size - len(demo_pdf("SH001")))
        return client.post("/admin/suppliers/upload/", data={
            "id": own.id, "title": "营业执照", "file": (io.BytesIO(body), "licence.pdf"),
            "csrf_token": form_token(f"/admin/suppliers/details/?id={own.id}")},
            content_type="multipart/form-data")
    before = SupplierDocument.select().count()
    assert upload(3 * 2**20).status_code == 302  # 3 MB: over 1 MB, within the 5 MB of files
    assert SupplierDocument.select().count() == before + 1
    over_file_limit = upload(5 * 2**20 + 10)
    assert over_file_limit.status_code == 302  # the page says why (its field error)
    assert SupplierDocument.select().count() == before + 1
    assert upload(8 * 2**20).status_code == 413


def test_long_addresses_and_huge_headers_answer_414_and_431_in_the_json_shape(api, client):
    json_error(client.get("/api/v1/orders?status=" + "x" * 5000), 414, "uri_too_long")
    json_error(client.get("/api/v1/" + "x" * 5000), 414, "uri_too_long")
    json_error(client.get("/api/v1/me", headers={"X-Padding": "x" * 9000}), 431,
               "headers_too_large")
    many = {f"X-Padding-{n}": "x" * 4000 for n in range(10)}
    json_error(client.get("/api/v1/me", headers=many), 431, "headers_too_large")
    assert client.get("/admin/?q=" + "x" * 5000).status_code == 414
    assert client.get("/api/v1/openapi.json?q=" + "x" * 3000).status_code == 200


def test_every_other_error_under_the_api_answers_the_json_shape(api, client, monkeypatch,
                                                                 no_propagation):
    customer = api.as_(CUSTOMER)
    json_error(client.delete("/api/v1/orders"), 405, "method_not_allowed")
    json_error(client.get("/api/v1/nothing-here"), 404, "not_found")
    json_error(customer.post("/api/v1/orders", raw="{not json",
                             headers={"Content-Type": "application/json"}), 400, "bad_request")
    from console.api import auth
    monkeypatch.setattr(auth, "me_payload", lambda user: 1 / 0)
    error = json_error(customer.client.get("/api/v1/me", headers={
        "Authentication-Token": customer.token}), 500, "server_error")
    assert "ZeroDivisionError" not in error["message"]


# ---- text no database stores ---------------------------------------------------------------
def test_unstorable_text_answers_422_naming_the_field(api, client):
    customer, staff = api.as_(CUSTOMER), api.as_(SUPPLIER)
    order = place()
    raw = customer.client.post
    headers = {"Authentication-Token": customer.token, "Content-Type": "application/json"}
    before = Order.select().count()
    for body, field in (('{"order_type": "maintenance", "note": "\\ud800"}', "note"),
                        ('{"order_type": "maintenance", "note": "a\\u0000b"}', "note"),
                        ('{"order_type": "maintenance", "\\udfff": 1}', "\\udfff"),
                        ('{"order_type": "maintenance", "details": {"pickup_address": '
                         '"\\udc80"}}', "details.pickup_address"),
                        ('{"order_type": "maintenance", "distance_m": NaN}', "distance_m")):
        error = json_error(raw("/api/v1/orders", data=body, headers=headers), 422, "invalid")
        assert error["field"] == field, (body, error)
    assert Order.select().count() == before
    error = json_error(customer.get("/api/v1/orders", query={"status": "paid\x00"}), 422)
    assert error["field"] == "status"
    in_repair(order)
    body = '{"text": "ok", "lines": [{"kind": "part", "name": "\\ud83d", "qty": 1, ' \
           '"unit_fen": 1}], "cost_change_fen": 1}'
    error = json_error(staff.client.post(f"/api/v1/supplier/orders/{order.id}/progress",
                                         data=body, headers={
                                             "Authentication-Token": staff.token,
                                             "Content-Type": "application/json"}), 422)
    assert error["field"] == "lines.0.name"
    login = client.post("/login?include_auth_token", data='{"identity": "\\ud800", '
                        '"password": "x"}', content_type="application/json")
    assert login.status_code == 422
    form = client.post("/login", data={"identity": "admin\x00", "password": "x"})
    assert form.status_code == 422
    assert client.get("/admin/orders/?search=%00").status_code == 422


# ---- amounts the database columns cannot hold -----------------------------------------------
def test_amounts_beyond_the_largest_order_answer_422_not_an_overflow(api):
    staff = api.as_(SUPPLIER)
    quoted = at_shop(place())
    path = f"/api/v1/supplier/orders/{quoted.id}/quote"
    for line, field in (({"qty": 1, "unit_fen": 10**12}, "lines.0.unit_fen"),
                        ({"qty": 10000, "unit_fen": 10**9}, "lines"),
                        ({"qty": 3, "unit_fen": 9 * 10**8}, "lines")):
        body = {"lines": [{"kind": "labour", "name": "大修", **line}]}
        error = json_error(staff.post(path, json=body), 422, "invalid")
        assert error["field"] == field, (line, error)
    assert Order.get_by_id(quoted.id).final_fen is None
    order = in_repair(place())
    progress = f"/api/v1/supplier/orders/{order.id}/progress"
    assert staff.post(progress, json={"text": "换发动机", "cost_change_fen": 6 * 10**8}
                      ).status_code == 201  # pending: the customer has not confirmed it
    error = json_error(staff.post(progress, json={"text": "再换变速箱",
                                                  "cost_change_fen": 6 * 10**8}), 422)
    assert error["field"] == "cost_change_fen"


# ---- photos, items, distance --------------------------------------------------------------
def test_progress_photos_must_be_images_the_supplier_uploaded(api, app, tmp_path):
    staff = api.as_(SUPPLIER)
    order = in_repair(place())

    def stored(body, name, who):
        return uploads.store(io.BytesIO(body), name, upload_dir=tmp_path, user=user(who)).id
    mine = stored(JPEG, "刹车盘.jpg", SUPPLIER)
    my_pdf = stored(demo_pdf("X"), "报价单.pdf", SUPPLIER)
    theirs = stored(JPEG, "别人的.jpg", CUSTOMER)
    missing = UploadedFile.select().order_by(UploadedFile.id.desc()).first().id + 1
    path = f"/api/v1/supplier/orders/{order.id}/progress"
    for photos in ([theirs], [missing], [my_pdf], [mine, theirs]):
        error = json_error(staff.post(path, json={"text": "拆检", "photos": photos}), 422)
        assert error["field"] == "photos", (photos, error)
    error = json_error(staff.post(path, json={"text": "拆检", "photos": [mine, mine]}), 422)
    assert error["field"] == "photos"
    assert not ProgressReport.select().where(ProgressReport.order == order.id).exists()
    posted = staff.post(path, json={"text": "拆检", "photos": [mine]})
    assert posted.status_code == 201 and posted.json["progress"][-1]["photos"] == [mine]
    from console.orders import aftersales
    with pytest.raises(OrderInputError) as refused:  # the operation, whoever calls it
        aftersales.post_progress(order, user(SUPPLIER), "再拍", photos=[theirs])
    assert refused.value.field == "photos"


def test_an_order_listing_an_item_twice_is_refused_naming_item_ids(api):
    customer = api.as_(CUSTOMER)
    supplier = shop()
    order_type = offered_type(supplier)
    item = approved_item(supplier, order_type)
    before = Order.select().count()
    body = {"order_type": order_type, "vehicle_id": my_car().id, "supplier_id": supplier.id,
            "item_ids": [item.id, item.id]}
    error = json_error(customer.post("/api/v1/orders", json=body), 422, "invalid")
    assert error["field"] == "item_ids"
    with pytest.raises(OrderInputError) as refused:
        place(items=[item, item])
    assert refused.value.field == "items"
    assert Order.select().count() == before
    once = customer.post("/api/v1/orders", json={**body, "item_ids": [item.id]})
    assert once.status_code == 201


def test_a_designated_driving_order_without_a_distance_is_refused(api):
    customer = api.as_(CUSTOMER)
    before = Order.select().count()
    for body in ({"order_type": "designated_driving"},
                 {"order_type": "designated_driving", "distance_m": 0}):
        error = json_error(customer.post("/api/v1/orders", json=body), 422, "invalid")
        assert error["field"] == "distance_m"
    assert Order.select().count() == before
    placed = customer.post("/api/v1/orders", json={"order_type": "designated_driving",
                                                   "distance_m": 12000})
    assert placed.status_code == 201 and placed.json["estimate_fen"] > 0
    with pytest.raises(OrderInputError):
        orders.place_order(customer_profile(), "designated_driving")


def customer_profile():
    from api_world import me
    return me()


def test_slots_of_a_far_supplier_id_answer_404_not_500(api):
    slot = open_slot()
    customer = api.as_(CUSTOMER)
    assert customer.get(f"/api/v1/suppliers/{shop().id}/slots",
                        query={"date": slot.date.isoformat()}).status_code == 200
    json_error(customer.get(f"/api/v1/suppliers/{2**64}/slots"), 404, "not_found")
