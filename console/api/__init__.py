"""The app API (JSON under /api/v1) for customers, butlers and suppliers.

Every endpoint is declared once with `route()`: the same declaration authenticates the token,
checks the endpoint's RBAC resource, validates query and body, renders errors as JSON, and
describes the operation in /api/v1/openapi.json. Views stay thin: parse, check, call one
operation, serialize."""
from functools import wraps

from flask import Blueprint, current_app, jsonify, request
from flask_babel import force_locale
from flask_babel import gettext as _

from console.api import errors as api_errors
from console.api import schema as s
from console.api.schema import N_
from console.config import LOCALES, setting
from console.system import audit, rbac

PREFIX = "/api/v1"
bp = Blueprint("api", __name__, url_prefix=PREFIX)
ENDPOINTS: list[s.Endpoint] = []
RESOURCE_KIND = "api"


def route(rule, method, *, resource, summary, tag, query=None, body=None, responses,
          errors=(), fields=None, description=""):
    """Declare and register one operation. `resource=None` makes it public (no token).
    The view is called as view(user, **path_args[, query=...][, body=...]) and returns a
    payload (or (payload, status)); anything an operation raises is mapped by errors.py,
    with `fields` renaming an operation's field to the body's (`vehicle` → `vehicle_id`)."""
    def register(view):
        endpoint = s.Endpoint(rule=rule, method=method, name=view.__name__, summary=summary,
                              tag=tag, resource=resource, query=query, body=body,
                              responses=responses, errors=tuple(errors),
                              description=description)
        ENDPOINTS.append(endpoint)

        @wraps(view)
        def handle(**path_args):
            user = token_user()
            with force_locale(locale_for(user)):
                try:
                    args = _arguments(endpoint, user, path_args)
                    result = view(user, **args)
                except Exception as exc:
                    error = api_errors.from_exception(exc)
                    if error is None:
                        raise
                    error.field = (fields or {}).get(error.field, error.field)
                    return error.response()
            payload, status = result if isinstance(result, tuple) else (result, endpoint.success)
            return jsonify(payload), status

        bp.add_url_rule(rule, endpoint=view.__name__, view_func=handle, methods=[method])
        return view
    return register


def _arguments(endpoint, user, path_args):
    if endpoint.resource is not None:
        if user is None:
            raise api_errors.unauthenticated()
        if not rbac.can(user, endpoint.resource):
            raise api_errors.forbidden()
    args = dict(path_args)
    if endpoint.query is not None:
        args["query"] = s.coerce_query(request.args, endpoint.query)
    if endpoint.body is not None:
        args["body"] = _json_body(endpoint.body)
    return args


def _json_body(declared):
    if not request.get_data():
        found = {}
    else:
        found = request.get_json(silent=True)
        if found is None:
            raise api_errors.bad_request(_("The request body must be JSON "
                                           "(Content-Type: application/json)."))
    s.check(found, declared, "body")
    return found


def token_user():
    """The user of the Authentication-Token header, or None. A browser session cookie never
    counts here: the API is exempt from CSRF, so only the token may authenticate."""
    header = current_app.config["SECURITY_TOKEN_AUTHENTICATION_HEADER"]
    if not request.headers.get(header):
        return None
    user = current_app.login_manager.request_callback(request)
    if user is None or getattr(user, "is_deleted", False):
        return None
    audit.acting_as(user, request.remote_addr or "")
    return user


def locale_for(user):
    """The user's saved language, else the first whitelisted one in Accept-Language."""
    chosen = getattr(user, "locale", "") if user is not None else ""
    if chosen in LOCALES:
        return chosen
    for tag, _quality in request.accept_languages:
        tag = tag.lower()
        if tag.startswith("zh"):
            return "zh_Hans_CN"
        if tag.startswith("en"):
            return "en"
    return setting("CONSOLE_LOCALE")


def declared_resources():
    """One RBAC resource (kind "api") per distinct resource code the endpoints check."""
    entries = {}
    for endpoint in ENDPOINTS:
        if endpoint.resource and endpoint.resource not in entries:
            entries[endpoint.resource] = {
                "code": endpoint.resource, "name": endpoint.summary, "kind": RESOURCE_KIND,
                "endpoint": f"api.{endpoint.name}", "url": PREFIX + endpoint.rule,
                "parent": None}
    return list(entries.values())


def init_app(app):
    from console import csrf
    from console.api import auth, customer, orders, supplier, sync, tasks  # noqa: F401
    csrf.exempt(bp)
    app.register_blueprint(bp)
    api_errors.install(app)
    app.extensions.setdefault("console_api_resources", []).extend(declared_resources())
    return bp


@route("/openapi.json", "GET", resource=None, tag="session", responses={200: s.obj(
    {"openapi": s.string(), "info": s.obj({}, open_ended=True),
     "paths": s.obj({}, open_ended=True), "components": s.obj({}, open_ended=True)},
    required=("openapi", "info", "paths", "components"), open_ended=True)},
    summary=N_("This document"))
def openapi(_user):
    return openapi_document()


def openapi_document():
    return s.openapi_document(
        ENDPOINTS, PREFIX, title="Car Service Platform App API", version="1",
        token_header=current_app.config["SECURITY_TOKEN_AUTHENTICATION_HEADER"],
        error_ref=api_errors.ERROR,
        description=(
            "JSON API for the customer, butler and supplier apps. Money is integer fen; times "
            "are UTC ISO 8601. Log in with POST /login?include_auth_token and the JSON body "
            '{"identity": email, mobile or account name, "password": ...}; send '
            "response.user.authentication_token in the Authentication-Token header. Errors "
            'are {"error": {"code", "message"[, "field"]}} in the language of the account, '
            "else of Accept-Language. Payments go to a SANDBOX gateway until the payment "
            "module arrives."))


def iso(moment):
    """UTC datetimes as ISO 8601 with a Z; dates as YYYY-MM-DD; None stays None."""
    if moment is None:
        return None
    if hasattr(moment, "hour") and hasattr(moment, "date"):
        return moment.replace(tzinfo=None).isoformat(timespec="seconds") + "Z"
    return moment.isoformat()
