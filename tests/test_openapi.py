"""The OpenAPI document at /api/v1/openapi.json tells the truth: it is OpenAPI 3 shaped,
documents every /api/v1 route and nothing else, and the schemas it declares are the ones the
API enforces on input and produces on output."""
import re

import pytest
from api_client import EXERCISED, ApiClient, validate
from jsonschema import Draft202012Validator

from console import api
from console.api import schema as s

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
    from console.system.models import Resource
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


def test_every_documented_operation_was_exercised_by_the_api_tests(request, document):
    """Runs after tests/test_api.py in a full run; each of its calls was validated."""
    ran_api_tests = any(item.path.name == "test_api.py" for item in request.session.items)
    if not ran_api_tests:
        pytest.skip("tests/test_api.py is not part of this run")
    exercised = {(method, path) for method, path, status in EXERCISED if status < 300}
    documented = {(m.upper(), p) for p, ops in document["paths"].items() for m in ops}
    assert documented - exercised == set()


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
