"""The OpenAPI document at /api/v1/openapi.json tells the truth: it is OpenAPI 3 shaped,
documents every /api/v1 route and nothing else, and the schemas it declares are the ones the
API enforces on input and produces on output."""
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
    paid,
    place,
    quoted,
    repaired,
    returned,
    shop,
    staff,
    user,
)
from jsonschema import Draft202012Validator

from console import api, orders
from console.api import schema as s
from console.models import Butler
from console.orders import aftersales

_RULE_ARG = re.compile(r"<(?:\w+(?:\([^)]*\))?:)?(\w+)>")


@pytest.fixture
def document(app, client):
    response = ApiClient(app, client).get("/api/v1/openapi.json")  # validated against itself
    assert response.status_code == 200
    return response.json


def routes_under_api(app):
    return {(_RULE_ARG.sub(r"{\1}", rule.rule), method.lower())
            for rule in app.url_map.iter_rules() if rule.rule.startswith("/api/v1/")
            for method in rule.methods - {"HEAD", "OPTIONS"}}


def test_the_document_is_openapi_3_shaped_and_its_schemas_and_references_are_valid(document):
    assert re.fullmatch(r"3\.\d+\.\d+", document["openapi"])
    assert document["info"]["title"] and document["info"]["version"]
    assert document["paths"] and document["components"]["schemas"]
    scheme = document["components"]["securitySchemes"]["token"]
    assert scheme == {"type": "apiKey", "in": "header", "name": "Authentication-Token"}
    for path, operations in document["paths"].items():
        assert path.startswith("/api/v1/")
        for method, operation in operations.items():
            assert method in {"get", "post", "put", "patch", "delete"}
            assert operation["operationId"] and operation["summary"] and operation["responses"]
            for status, response in operation["responses"].items():
                assert re.fullmatch(r"[1-5]\d\d", status)
                assert "description" in response
                Draft202012Validator.check_schema(
                    response["content"]["application/json"]["schema"])
            if "requestBody" in operation:
                Draft202012Validator.check_schema(
                    operation["requestBody"]["content"]["application/json"]["schema"])
    for schema in document["components"]["schemas"].values():
        Draft202012Validator.check_schema(schema)
    names = set(document["components"]["schemas"])
    refs = set(re.findall(r'"#/components/schemas/([^"]+)"', str(document).replace("'", '"')))
    assert refs and refs <= names
    operation = document["paths"]["/api/v1/openapi.json"]["get"]
    validate(operation["responses"]["200"]["content"]["application/json"]["schema"],
             document, document)


def test_every_api_route_is_documented_and_every_documented_route_exists(app, document):
    documented = {(path, method) for path, ops in document["paths"].items() for method in ops}
    assert routes_under_api(app) == documented
    for endpoint in api.ENDPOINTS:  # the body schema shown is the one enforced
        if endpoint.body is None:
            continue
        path = api.PREFIX + _RULE_ARG.sub(r"{\1}", endpoint.rule)
        declared = document["paths"][path][endpoint.method.lower()]["requestBody"]
        assert declared["content"]["application/json"]["schema"] == endpoint.body


def test_protected_operations_name_a_registered_rbac_resource_and_answer_401_403(document):
    from console.models import Resource
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            if operation.get("security") == []:
                continue  # public: the document itself
            assert operation["x-rbac-resource"].startswith("api."), (method, path)
            assert {"401", "403"} <= set(operation["responses"]), (method, path)
    codes = {op["x-rbac-resource"] for ops in document["paths"].values()
             for op in ops.values() if "x-rbac-resource" in op}
    stored = {r.code: r.kind for r in Resource.select().where(Resource.code.in_(codes),
                                                              Resource.is_active == True)}  # noqa: E712,E501
    assert stored == {code: "api" for code in codes}


@pytest.mark.parametrize("value, schema, field", [
    ({"amount_fen": -1}, s.obj({"amount_fen": s.money()}), "amount_fen"),
    ({"amount_fen": 1.5}, s.obj({"amount_fen": s.money()}), "amount_fen"),
    ({"amount_fen": "100"}, s.obj({"amount_fen": s.money()}), "amount_fen"),
    ({"amount_fen": True}, s.obj({"amount_fen": s.money()}), "amount_fen"),
    ({}, s.obj({"kind": s.string()}, required=("kind",)), "kind"),
    ({"kind": "x", "typo": 1}, s.obj({"kind": s.string()}), "typo"),
    ({"kind": "boat"}, s.obj({"kind": s.string(enum=("car", "van"))}), "kind"),
    ({"lines": [{"qty": 0}]}, s.obj({"lines": s.array(s.obj({"qty": s.integer(minimum=1)}))}),
     "lines.0.qty"),
    ({"day": "2026-02-30"}, s.obj({"day": s.date()}), "day"),
    ({"text": "  "}, s.obj({"text": s.string(min_length=1)}), "text"),
])
def test_our_validator_refuses_what_jsonschema_refuses_and_names_the_field(value, schema,
                                                                           field):
    with pytest.raises(s.SchemaError) as refused:
        s.check(value, schema)
    assert refused.value.field == field
    if field not in ("day", "text"):  # formats and blank strings are stricter than the spec
        assert list(Draft202012Validator(schema).iter_errors(value))


def test_our_validator_accepts_what_it_should():
    schema = s.obj({"amount_fen": s.money(), "note": s.string(10, null=True),
                    "vehicle": s.nullable(s.obj({"id": s.integer()}, required=("id",)))},
                   required=("amount_fen",))
    for value in ({"amount_fen": 0}, {"amount_fen": 12345, "note": None, "vehicle": None},
                  {"amount_fen": 1, "vehicle": {"id": 3}}):
        s.check(value, schema)
        assert not list(Draft202012Validator(schema).iter_errors(value))


def test_unknown_routes_and_methods_under_the_api_answer_json(app, client):
    caller = ApiClient(app, client)
    missing = caller.get("/api/v1/no-such-thing")
    assert missing.status_code == 404 and missing.json["error"]["code"] == "not_found"
    wrong_method = caller.call("DELETE", "/api/v1/orders")
    assert wrong_method.status_code == 405
    assert wrong_method.json["error"]["code"] == "method_not_allowed"


# ---- one request per documented operation, made here ---------------------------------------
# Each step sets up the state its operation needs through the operations directly, and names
# the caller, the concrete path and the body or query of one request the operation must
# answer with its documented success. The tour runs in this test alone: it does not depend
# on which other tests ran, in which order or in which process.
def _tour():
    lines = [{"kind": "labour", "name": "精洗", "qty": 1, "unit_fen": 9000}]

    def cost_change(order):
        in_repair(order)
        return aftersales.post_progress(order, staff(SUPPLIER), "刹车片磨损，建议更换",
                                        cost_change_fen=5000, lines=[
                                            {"kind": "part", "name": "刹车片", "qty": 1,
                                             "unit_fen": 5000}])

    def my_butler():
        return Butler.get(Butler.user == user(BUTLER))

    def place_body():
        supplier = shop()
        order_type = offered_type(supplier)
        return {"order_type": order_type, "vehicle_id": my_car().id,
                "supplier_id": supplier.id,
                "item_ids": [approved_item(supplier, order_type).id]}

    def slots():
        slot = open_slot(capacity=1)
        return CUSTOMER, f"/api/v1/suppliers/{shop().id}/slots", None, {
            "date": slot.date.isoformat()}

    def task(moved=None):
        order = place(needs_butler=True)
        if moved == "grabbed":
            orders.grab(order, my_butler())
        if moved == "assigned":
            orders.assign(order, my_butler(), user("dispatcher@demo.local"), "离得最近")
        return order.id

    def reported(confirm):
        order = place()
        report = cost_change(order)
        return (CUSTOMER, f"/api/v1/orders/{order.id}/progress/{report.id}/"
                          f"{'confirm' if confirm else 'reject'}",
                None if confirm else {"reason": "不需要"}, None)

    def pay():
        order = repaired(place())
        return CUSTOMER, f"/api/v1/orders/{order.id}/pay", {
            "channel": "wechat", "amount_fen": order.amount_due_fen}, None

    return {
        ("GET", "/api/v1/openapi.json"): lambda: (None, "/api/v1/openapi.json", None, None),
        ("GET", "/api/v1/me"): lambda: (CUSTOMER, "/api/v1/me", None, None),
        ("POST", "/api/v1/logout"): lambda: (CUSTOMER, "/api/v1/logout", None, None),
        ("GET", "/api/v1/orders"): lambda: (CUSTOMER, "/api/v1/orders", None, None),
        ("GET", "/api/v1/orders/{order_id}"): lambda: (
            CUSTOMER, f"/api/v1/orders/{place().id}", None, None),
        ("GET", "/api/v1/vehicles"): lambda: (CUSTOMER, "/api/v1/vehicles", None, None),
        ("GET", "/api/v1/coupons"): lambda: (CUSTOMER, "/api/v1/coupons", None, None),
        ("GET", "/api/v1/suppliers/{supplier_id}/slots"): slots,
        ("POST", "/api/v1/orders"): lambda: (CUSTOMER, "/api/v1/orders", place_body(), None),
        ("POST", "/api/v1/orders/{order_id}/quote/confirm"): lambda: (
            CUSTOMER, f"/api/v1/orders/{quoted(place()).id}/quote/confirm", None, None),
        ("POST", "/api/v1/orders/{order_id}/quote/reject"): lambda: (
            CUSTOMER, f"/api/v1/orders/{quoted(place()).id}/quote/reject",
            {"reason": "太贵"}, None),
        ("POST", "/api/v1/orders/{order_id}/cancel"): lambda: (
            CUSTOMER, f"/api/v1/orders/{place().id}/cancel", {"reason": "改期"}, None),
        ("POST", "/api/v1/orders/{order_id}/review"): lambda: (
            CUSTOMER, f"/api/v1/orders/{returned(place()).id}/review",
            {"stars": 5, "words": "很满意"}, None),
        ("POST", "/api/v1/orders/{order_id}/complaints"): lambda: (
            CUSTOMER, f"/api/v1/orders/{paid(place()).id}/complaints", {"text": "有划痕"}, None),
        ("POST", "/api/v1/orders/{order_id}/rework"): lambda: (
            CUSTOMER, f"/api/v1/orders/{returned(place()).id}/rework",
            {"reason": "划痕需处理"}, None),
        ("POST", "/api/v1/orders/{order_id}/progress/{report_id}/confirm"): lambda: reported(
            confirm=True),
        ("POST", "/api/v1/orders/{order_id}/progress/{report_id}/reject"): lambda: reported(
            confirm=False),
        ("POST", "/api/v1/orders/{order_id}/appointment"): lambda: (
            CUSTOMER, f"/api/v1/orders/{place().id}/appointment",
            {"slot_id": open_slot(capacity=2).id}, None),
        ("POST", "/api/v1/orders/{order_id}/pay"): pay,
        ("POST", "/api/v1/supplier/service-codes/verify"): lambda: (
            SUPPLIER, "/api/v1/supplier/service-codes/verify",
            {"code": place().service_code}, None),
        ("POST", "/api/v1/supplier/orders/{order_id}/quote"): lambda: (
            SUPPLIER, f"/api/v1/supplier/orders/{at_shop(place()).id}/quote",
            {"lines": lines}, None),
        ("POST", "/api/v1/supplier/orders/{order_id}/progress"): lambda: (
            SUPPLIER, f"/api/v1/supplier/orders/{in_repair(place()).id}/progress",
            {"text": "已拆检"}, None),
        ("POST", "/api/v1/supplier/orders/{order_id}/finish-repair"): lambda: (
            SUPPLIER, f"/api/v1/supplier/orders/{in_repair(place()).id}/finish-repair",
            {"note": "完工"}, None),
        ("POST", "/api/v1/supplier/orders/{order_id}/advance"): lambda: (
            SUPPLIER, f"/api/v1/supplier/orders/{paid(place()).id}/advance",
            {"action": "return_car"}, None),
        ("GET", "/api/v1/sync/orders"): lambda: (PLATFORM, "/api/v1/sync/orders", None, None),
        ("GET", "/api/v1/sync/users"): lambda: (PLATFORM, "/api/v1/sync/users", None, None),
        ("GET", "/api/v1/tasks"): lambda: (BUTLER, "/api/v1/tasks", None, None),
        ("POST", "/api/v1/tasks/{order_id}/grab"): lambda: (
            BUTLER, f"/api/v1/tasks/{task()}/grab", None, None),
        ("POST", "/api/v1/tasks/{order_id}/refuse"): lambda: (
            BUTLER, f"/api/v1/tasks/{task('assigned')}/refuse", {"reason": "车坏了"}, None),
        ("POST", "/api/v1/tasks/{order_id}/advance"): lambda: (
            BUTLER, f"/api/v1/tasks/{task('grabbed')}/advance", {"action": "pick_up"}, None),
    }


def test_every_documented_operation_answers_its_documented_success_to_a_request_made_here(
        app, client, document):
    """One request per operation of the document, each checked against the document by
    ApiClient; an operation the tour has no request for fails here, by name."""
    ensure_profiles()
    tour = _tour()
    documented = {(method.upper(), path): operation for path, operations in
                  document["paths"].items() for method, operation in operations.items()}
    anonymous = ApiClient(app, client)
    wrong, answered = [], set()
    for (method, path), operation in sorted(documented.items(), key=lambda kv: kv[0][::-1]):
        step = tour.get((method, path))
        if step is None:
            wrong.append(f"{method} {path}: no request exercises it: add a step to _tour()")
            continue
        identity, url, body, query = step()
        caller = anonymous.as_(identity) if identity else anonymous
        success = {int(status) for status in operation["responses"] if int(status) < 300}
        try:  # ApiClient checks the status is documented and the body fits its schema
            response = caller.call(method, url, json=body, query=query)
        except AssertionError as exc:
            wrong.append(f"{method} {url}: {exc}")
            continue
        if response.status_code not in success:
            wrong.append(f"{method} {url} → {response.status_code}, documented success "
                         f"{sorted(success)}: {json.dumps(response.json, ensure_ascii=False)}")
            continue
        answered.add((method, path))
    stale = set(tour) - set(documented)
    assert not stale, f"steps for operations the document no longer has: {sorted(stale)}"
    assert not wrong, f"{len(wrong)} of {len(documented)} operations:\n" + "\n".join(wrong)
    assert documented and answered == set(documented)


def test_every_message_of_the_api_has_a_chinese_translation():
    """Errors, validation reasons and endpoint names (the RBAC resource names) alike."""
    import io
    from pathlib import Path

    from babel.messages.extract import extract
    from babel.messages.pofile import read_po
    root = Path(api.__file__).parent
    keywords = {"_": None, "gettext": None, "_l": None, "lazy_gettext": None, "N_": None}
    wanted = {message for path in root.glob("*.py")
              for _line, message, _comments, _context in extract(
                  "python", io.BytesIO(path.read_bytes()), keywords=keywords)}
    po = root.parent / "translations/api/zh_Hans_CN/LC_MESSAGES/messages.po"
    translated = {m.id: m.string for m in read_po(io.BytesIO(po.read_bytes())) if m.id}
    assert len(wanted) > 50
    assert sorted(m for m in wanted if not translated.get(m)) == []
