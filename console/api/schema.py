"""Describe each API endpoint once — its path, method, RBAC resource, query, body and response
schemas — and use that one declaration both to validate input and to build the OpenAPI 3.1
document served at /api/v1/openapi.json.

Schemas are plain JSON Schema (2020-12, as OpenAPI 3.1 uses) built with a few constructors;
`check()` validates the subset they use and names the first field at fault."""
import datetime as dt
import re
from dataclasses import dataclass, field

from flask_babel import gettext as _

from console.common.bounds import MAX_ID, MAX_ID_DIGITS
from console.common.money import MAX_FEN
from console.errors import InputError

REF_PREFIX = "#/components/schemas/"
ROOTS = ("body", "query")  # top-level fields are named bare: `vehicle_id`, not `body.vehicle_id`
COMPONENTS: dict[str, dict] = {}


# ---- constructors ----------------------------------------------------------------------
def _nullable(schema, null):
    if null:
        schema["type"] = [schema["type"], "null"]
    return schema


def _described(schema, description):
    if description:
        schema["description"] = description
    return schema


def string(max_length=None, *, min_length=None, enum=None, pattern=None, fmt=None,
           null=False, description=None):
    schema = {"type": "string"}
    for key, value in (("maxLength", max_length), ("minLength", min_length), ("enum", enum),
                       ("pattern", pattern), ("format", fmt)):
        if value is not None:
            schema[key] = list(value) if key == "enum" else value
    return _described(_nullable(schema, null), description)


def integer(*, minimum=None, maximum=None, null=False, description=None):
    """Every integer is bounded: at most what a 64-bit database integer holds, so an id of
    2^64 is refused here (422) rather than overflowing the database driver."""
    schema = {"type": "integer",
              "minimum": -MAX_ID - 1 if minimum is None else minimum,
              "maximum": MAX_ID if maximum is None else maximum}
    return _described(_nullable(schema, null), description)


def row_id(*, null=False, description=None):
    """The id of a row: 1 to 2^63-1."""
    return integer(minimum=1, null=null, description=description)


def id_cursor(description):
    """A keyset cursor that is a row id in digits; short enough to stay below 2^63."""
    return string(MAX_ID_DIGITS, pattern=rf"^[0-9]{{1,{MAX_ID_DIGITS}}}$",
                  description=description)


def money(description="amount in fen (1/100 yuan), a non-negative integer", *, null=False,
          maximum=10**12):
    return integer(minimum=0, maximum=maximum, null=null, description=description)


def price(description):
    """An amount a caller sets (a quote line, a valuation): at most the platform's largest
    order, ¥10,000,000 (the database columns hold no more on PostgreSQL)."""
    return money(f"{description}; fen, at most {MAX_FEN}", maximum=MAX_FEN)


def boolean(*, null=False, description=None):
    return _described(_nullable({"type": "boolean"}, null), description)


def number(*, null=False, description=None):
    return _described(_nullable({"type": "number"}, null), description)


def timestamp(*, null=False, description="UTC, ISO 8601"):
    return string(fmt="date-time", null=null, description=description)


def date(*, null=False, description=None):
    return string(fmt="date", null=null, description=description)


def array(items, *, max_items=None, unique=False, description=None):
    schema = {"type": "array", "items": items}
    if max_items is not None:
        schema["maxItems"] = max_items
    if unique:
        schema["uniqueItems"] = True
    return _described(schema, description)


def obj(properties, required=(), *, open_ended=False, description=None):
    """An object; unknown keys are refused unless `open_ended` (typos fail loudly)."""
    schema = {"type": "object", "properties": dict(properties),
              "additionalProperties": bool(open_ended)}
    if required:
        schema["required"] = list(required)
    return _described(schema, description)


def any_of(*schemas, description=None):
    return _described({"anyOf": list(schemas)}, description)


def nullable(schema):
    return {"anyOf": [schema, {"type": "null"}]}


def component(name, schema):
    """Register a named schema under components/schemas and return a $ref to it."""
    if name in COMPONENTS and COMPONENTS[name] != schema:
        raise ValueError(f"schema component {name!r} declared twice with different content")
    COMPONENTS[name] = schema
    return {"$ref": REF_PREFIX + name}


def page_of(item_ref, name):
    """A keyset page: items and the opaque cursor of the next page (null at the end)."""
    return component(name, obj({"items": array(item_ref),
                                "next_cursor": string(null=True, description=(
                                    "pass as `cursor` for the next page; null at the end"))},
                               required=("items", "next_cursor")))


# ---- endpoint declarations -------------------------------------------------------------
@dataclass
class Endpoint:
    """One operation: everything the wrapper enforces and the document describes."""
    rule: str  # Flask rule relative to the blueprint, e.g. "/orders/<int:order_id>"
    method: str
    name: str  # the Flask endpoint (function) name
    summary: str
    tag: str
    resource: str | None  # RBAC resource code; None = public
    query: dict | None = None
    body: dict | None = None
    responses: dict = field(default_factory=dict)  # status -> schema
    errors: tuple = ()  # statuses beyond the ones implied, e.g. 409 for order moves
    description: str = ""

    @property
    def success(self):
        return min(self.responses)


# ---- validation ------------------------------------------------------------------------
def N_(message):
    """Mark a message for extraction; errors.py translates it when the response is built."""
    return message


class SchemaError(InputError):
    """Input that does not match its schema; `field` is a dotted path (`items.0.price`),
    `reason` an untranslated message with %(name)s placeholders filled from `params`,
    translated when the message is read."""

    def __init__(self, field_path, reason, **params):
        super().__init__(field_path, f"{field_path}: {reason % params}")
        self.reason = reason
        self.params = params

    @property
    def message(self):
        return _("%(field)s: %(reason)s", field=self.field, reason=_(self.reason, **self.params))


_FORMATS = {
    "date-time": lambda v: dt.datetime.fromisoformat(v.replace("Z", "+00:00")),
    "date": dt.date.fromisoformat,
}
_PY_TYPES = {"string": str, "integer": int, "number": (int, float), "boolean": bool,
             "object": dict, "array": list, "null": type(None)}


def resolve(schema):
    while "$ref" in schema:
        schema = COMPONENTS[schema["$ref"].removeprefix(REF_PREFIX)]
    return schema


def _type_ok(value, name):
    if isinstance(value, bool) and name in ("integer", "number"):
        return False
    return isinstance(value, _PY_TYPES[name])


def check(value, schema, path="body"):
    """Raise SchemaError for the first problem found."""
    schema = resolve(schema)
    if "anyOf" in schema:
        failures = []
        for option in schema["anyOf"]:
            try:
                return check(value, option, path)
            except SchemaError as exc:
                failures.append(exc)
        raise max(failures, key=lambda e: len(e.field))
    types = schema.get("type")
    if types is not None:
        types = types if isinstance(types, list) else [types]
        if not any(_type_ok(value, t) for t in types):
            if "integer" in types:
                raise SchemaError(path, N_("must be an integer"))
            raise SchemaError(path, N_("must be of type %(types)s"), types=" | ".join(types))
    if value is None:
        return
    if "enum" in schema and value not in schema["enum"]:
        raise SchemaError(path, N_("must be one of: %(choices)s"),
                          choices=", ".join(map(str, schema["enum"])))
    if isinstance(value, str):
        _check_string(value, schema, path)
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        if "minimum" in schema and value < schema["minimum"]:
            raise SchemaError(path, N_("must be at least %(minimum)s"),
                              minimum=schema["minimum"])
        if "maximum" in schema and value > schema["maximum"]:
            raise SchemaError(path, N_("must be at most %(maximum)s"),
                              maximum=schema["maximum"])
    elif isinstance(value, dict):
        _check_object(value, schema, path)
    elif isinstance(value, list):
        if "maxItems" in schema and len(value) > schema["maxItems"]:
            raise SchemaError(path, N_("must have at most %(count)s items"),
                              count=schema["maxItems"])
        if schema.get("uniqueItems") and len(set(map(repr, value))) < len(value):
            raise SchemaError(path, N_("must not list the same value twice"))
        for index, item in enumerate(value):
            check(item, schema.get("items", {}), f"{path}.{index}")


def _check_string(value, schema, path):
    if "minLength" in schema and len(value.strip()) < schema["minLength"]:
        if schema["minLength"] == 1:
            raise SchemaError(path, N_("must not be empty"))
        raise SchemaError(path, N_("must have at least %(count)s characters"),
                          count=schema["minLength"])
    if "maxLength" in schema and len(value) > schema["maxLength"]:
        raise SchemaError(path, N_("must have at most %(count)s characters"),
                          count=schema["maxLength"])
    if "pattern" in schema and not re.search(schema["pattern"], value):
        raise SchemaError(path, N_("has the wrong format"))
    parse = _FORMATS.get(schema.get("format"))
    if parse:
        try:
            parse(value)
        except ValueError:
            raise SchemaError(path, N_("must be a %(format)s in ISO 8601"),
                              format=schema["format"]) from None


def _check_object(value, schema, path):
    prefix = "" if path in ROOTS else f"{path}."
    properties = schema.get("properties", {})
    for name in schema.get("required", []):
        if name not in value:
            raise SchemaError(prefix + name, N_("is required"))
    if schema.get("additionalProperties") is False:
        for name in value:
            if name not in properties:
                raise SchemaError(prefix + name, N_("is not a known field"))
    for name, item in value.items():
        if name in properties:
            check(item, properties[name], prefix + name)


def coerce_query(args, schema):
    """Query strings arrive as text: convert declared integers/booleans before checking."""
    schema = resolve(schema)
    values = {}
    for name in args:
        raw = args.get(name)
        declared = resolve(schema.get("properties", {}).get(name, {}))
        types = declared.get("type")
        types = types if isinstance(types, list) else [types]
        if "integer" in types and re.fullmatch(r"-?\d{1,18}", raw or ""):
            values[name] = int(raw)
        elif "boolean" in types and raw in ("true", "false", "1", "0"):
            values[name] = raw in ("true", "1")
        else:
            values[name] = raw
    check(values, schema, "query")
    return values


# ---- the OpenAPI document --------------------------------------------------------------
_RULE_ARG = re.compile(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>")
# `<int:...>` matches 0 to 2^63-1 (bounds.IdConverter); a larger number finds no route: 404
_CONVERTER_SCHEMAS = {"int": {"type": "integer", "minimum": 0, "maximum": MAX_ID},
                      "string": {"type": "string"}, None: {"type": "string"}}
ERROR_STATUSES = {400: "Malformed request (the body is not JSON, or nested too deep)",
                  401: "No valid token in the Authentication-Token header",
                  403: "Your roles do not hold this endpoint's resource",
                  404: "No such record, or not one you may see",
                  409: "The move is not allowed in the record's current state; `code` says why",
                  413: "The body is larger than 1 MB",
                  422: "Invalid input; `field` names the culprit"}


def openapi_path(prefix, rule):
    """Flask's `/orders/<int:order_id>` → OpenAPI's `/api/v1/orders/{order_id}`."""
    return prefix + _RULE_ARG.sub(r"{\2}", rule)


def path_parameters(rule):
    return [{"name": name, "in": "path", "required": True,
             "schema": dict(_CONVERTER_SCHEMAS.get(converter, {"type": "string"}))}
            for converter, name in _RULE_ARG.findall(rule)]


def query_parameters(query):
    query = resolve(query)
    required = set(query.get("required", []))
    return [{"name": name, "in": "query", "required": name in required, "schema": schema}
            for name, schema in query.get("properties", {}).items()]


def error_statuses(endpoint):
    statuses = set()
    if endpoint.resource is not None:
        statuses |= {401, 403}
    if endpoint.body is not None:
        statuses |= {400, 413, 422}
    if endpoint.query is not None:
        statuses.add(422)
    if path_parameters(endpoint.rule):
        statuses.add(404)
    statuses |= set(endpoint.errors)
    return sorted(statuses)


def operation(endpoint, error_ref):
    op = {"operationId": endpoint.name, "summary": endpoint.summary, "tags": [endpoint.tag],
          "parameters": path_parameters(endpoint.rule) + (
              query_parameters(endpoint.query) if endpoint.query is not None else []),
          "responses": {}}
    if endpoint.description:
        op["description"] = endpoint.description
    if endpoint.resource is None:
        op["security"] = []
    else:
        op["x-rbac-resource"] = endpoint.resource
    if endpoint.body is not None:
        op["requestBody"] = {"required": True, "content": {
            "application/json": {"schema": endpoint.body}}}
    for status, schema in sorted(endpoint.responses.items()):
        op["responses"][str(status)] = {"description": "OK" if status < 300 else "",
                                        "content": {"application/json": {"schema": schema}}}
    for status in error_statuses(endpoint):
        op["responses"][str(status)] = {"description": ERROR_STATUSES[status], "content": {
            "application/json": {"schema": error_ref}}}
    return op


def openapi_document(endpoints, prefix, *, title, version, token_header, error_ref,
                     description=""):
    paths = {}
    for endpoint in endpoints:
        path = paths.setdefault(openapi_path(prefix, endpoint.rule), {})
        path[endpoint.method.lower()] = operation(endpoint, error_ref)
    return {
        "openapi": "3.1.0",
        "info": {"title": title, "version": version, "description": description},
        "jsonSchemaDialect": "https://json-schema.org/draft/2020-12/schema",
        "paths": paths,
        "components": {
            "schemas": dict(sorted(COMPONENTS.items())),
            "securitySchemes": {"token": {"type": "apiKey", "in": "header",
                                          "name": token_header}}},
        "security": [{"token": []}],
        "tags": [{"name": tag} for tag in sorted({e.tag for e in endpoints})],
    }
