"""The request guard: limits every request meets before any handler reads it (DESIGN §5: no
input, however malformed, answers 500). Installed first by the app factory, because the first
reader of a JSON body is Flask-Security's request loader, run by Flask-Principal's hook on
every route, logged in or not.

    URI longer than URI_LIMIT                              414
    a header line over HEADER_LIMIT, or all over HEADERS_LIMIT  431
    body over MAX_CONTENT_LENGTH (uploads: UPLOAD slack)   413
    JSON that does not parse or is nested too deep          400
    text no database stores (lone surrogate, NUL),
    NaN / infinite numbers                                  422 naming the field

Under /api/ each answers the JSON error shape (web.py and api/errors.py render them)."""
from flask import current_app, request
from flask.wrappers import Request
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import (
    BadRequest,
    RequestEntityTooLarge,
    RequestHeaderFieldsTooLarge,
    RequestURITooLarge,
    UnprocessableEntity,
)

from console.common import xlsx
from console.common.bounds import MAX_JSON_DEPTH, IdConverter, json_problem, storable_text
from console.config import setting

# Below the servers' own limits (gunicorn: a 4094-byte request line, 8190-byte header lines;
# nginx: 8 KB lines, 32 KB in all), so a client meets ours and its JSON, not a server's page.
BODY_LIMIT = 1024 * 1024  # MAX_CONTENT_LENGTH unless the configuration says otherwise
URI_LIMIT = 4000
HEADER_LIMIT = 8000
HEADERS_LIMIT = 32 * 1024
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


class InputRefused(UnprocessableEntity):
    """422 for input no field of any route could take; `field` names where it was found."""

    def __init__(self, field, description):
        super().__init__(description)
        self.field = field


class GuardedRequest(Request):
    """get_json() for any caller: a document nested so deep that the parser gives up is a
    malformed body (400, or None when silent), not a RecursionError in whoever parsed it
    first. Shallower excess (up to the parser's limit) is refused by check_request."""

    def get_json(self, force=False, silent=False, cache=True):
        try:
            return super().get_json(force=force, silent=silent, cache=cache)
        except RecursionError:
            if silent:
                return None
            raise BadRequest(malformed_json_message()) from None


def malformed_json_message():
    return _l("The request body is not valid JSON, or is nested deeper than %(depth)s levels.",
             depth=MAX_JSON_DEPTH)


def body_limit():
    """Bytes a request body may have: MAX_CONTENT_LENGTH (1 MB), except multipart uploads to
    the console, which may carry the largest file an upload route takes as well."""
    limit = current_app.config["MAX_CONTENT_LENGTH"]
    if request.mimetype == "multipart/form-data" and not request.path.startswith("/api/"):
        limit += max(setting("CONSOLE_UPLOAD_MAX_BYTES"), xlsx.MAX_BYTES)
    return limit


def check_request():
    """The first before_request hook: refuse what no handler may see."""
    if len(request.path) + len(request.query_string) > URI_LIMIT:
        raise RequestURITooLarge(_l("The address is longer than %(count)s characters.",
                                   count=URI_LIMIT))
    sizes = [len(name) + len(value) + 4 for name, value in request.headers.items()]
    if sizes and (max(sizes) > HEADER_LIMIT or sum(sizes) > HEADERS_LIMIT):
        raise RequestHeaderFieldsTooLarge(_l("The request headers are too large."))
    request.max_content_length = limit = body_limit()
    if request.content_length is not None and request.content_length > limit:
        raise RequestEntityTooLarge(too_large_message(limit))
    _check_text(request.args)
    if request.is_json:
        if request.get_data(cache=True):
            _check_json()
    elif request.mimetype in FORM_TYPES and not request.path.startswith("/api/"):
        _check_text(request.form)  # the API reads no forms: it answers them "not JSON"


def too_large_message(limit=None):
    limit = limit or request.max_content_length or current_app.config["MAX_CONTENT_LENGTH"]
    size = f"{limit / 2**20:g} MB"
    return _l("The request body is larger than %(size)s.", size=size)


def _check_json():
    try:
        document = request.get_json()
    except BadRequest:
        raise BadRequest(malformed_json_message()) from None
    problem = json_problem(document)
    if problem is not None:
        _refuse(*problem)


def _check_text(values):
    for name, value in values.items(multi=True):
        if not storable_text(name):
            _refuse("", "text")
        if not storable_text(value):
            _refuse(name, "text")


def _refuse(field, kind):
    if kind == "too_deep":
        raise BadRequest(malformed_json_message())
    label = field or _l("the request")
    if kind == "number":
        raise InputRefused(field, _l("%(field)s: must be a finite number.", field=label))
    raise InputRefused(field, _l("%(field)s: contains characters that cannot be stored "
                                "(a NUL or an unpaired surrogate).", field=label))


def install(app):
    """Before any route or hook exists: bounded `<int:...>` ids, the guarded request, and the
    check as the very first before_request function."""
    app.config["MAX_CONTENT_LENGTH"] = BODY_LIMIT  # create_app's configuration may change it
    app.url_map.converters["int"] = IdConverter
    app.request_class = GuardedRequest
    app.before_request_funcs.setdefault(None, []).insert(0, check_request)
