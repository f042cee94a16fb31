"""API errors: every failure answers {"error": {"code", "message"[, "field"]}} — 400, 401,
403, 404, 409, 422 from the routes, and whatever status Flask or the request guard answers
(405, 413, 414, 431, 500, ...) — never an HTML page or a redirect."""
from flask import jsonify, request
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import HTTPException

from console.api import schema as s
from console.errors import DomainError, InputError

ERROR = s.component("Error", s.obj({"error": s.obj({
    "code": s.string(description="stable machine-readable code, e.g. `invalid`, "
                                 "`not_found`, or the refused move's code"),
    "message": s.string(description="human-readable, in the caller's language"),
    "field": s.string(description="the input field at fault (422 only)"),
}, required=("code", "message"))}, required=("error",)))

STATUS_TEXT = {400: "Malformed request", 401: "No valid token", 403: "Not allowed for your roles",
               404: "No such route or record", 409: "The move is not allowed now",
               422: "Invalid input; `field` names the culprit"}


class ApiError(Exception):
    def __init__(self, status, code, message, field=None):
        super().__init__(message)
        self.status, self.code, self.message, self.field = status, code, message, field

    def response(self):
        error = {"code": self.code, "message": str(self.message)}
        if self.field:
            error["field"] = self.field
        return jsonify({"error": error}), self.status


def unauthenticated():
    return ApiError(401, "unauthenticated",
                    _("Send a valid token in the Authentication-Token header."))


def forbidden():
    return ApiError(403, "forbidden", _("Your roles do not allow this API call."))


def not_found(message=None):
    return ApiError(404, "not_found", message or _("No such record."))


def invalid(field, message):
    return ApiError(422, "invalid", message, field)


def bad_request(message):
    return ApiError(400, "bad_request", message)


def from_exception(exc):
    """Map what operations raise to an ApiError by class; None means "not ours" (a real bug,
    left to the 500 handler)."""
    if isinstance(exc, ApiError):
        return exc
    if isinstance(exc, DomainError):
        field = exc.field if isinstance(exc, InputError) else None
        return ApiError(exc.status, exc.code, exc.message, field)
    return None


# the `code` of a status answered outside the routes (a refused operation names its own)
HTTP_CODES = {400: "bad_request", 401: "unauthenticated", 403: "forbidden", 404: "not_found",
              405: "method_not_allowed", 409: "conflict", 413: "too_large",
              414: "uri_too_long", 415: "unsupported_media_type", 422: "invalid",
              429: "too_many_requests", 431: "headers_too_large", 500: "server_error",
              503: "unavailable"}
HTTP_MESSAGES = {
    400: _l("The request is malformed."),
    405: _l("This method is not allowed on this address."),
    413: _l("The request body is too large."),
    414: _l("The address is too long."),
    415: _l("This content type is not accepted here."),
    431: _l("The request headers are too large."),
    500: _l("The server failed to answer this request; please try again later."),
}


def json_error(status, message, field=None):
    """The JSON error shape for `status`, its message in the caller's language (the token's
    user is not known outside the routes: Accept-Language decides)."""
    from console.api import locale_for
    with force_locale(locale_for(None)):
        error = {"code": HTTP_CODES.get(status, "error"), "message": str(message)}
    if field:
        error["field"] = field
    return jsonify({"error": error}), status


def describe(exc):
    """The message for an HTTPException: the one it was raised with, else its status's."""
    if exc.description != type(exc).description:
        return exc.description
    return HTTP_MESSAGES.get(exc.code, exc.description)


def install(app):
    """Statuses Flask raises itself (405, 413, 500, ...) answer JSON under /api/; elsewhere
    the default page stays. The statuses with a console page (web.py) answer JSON under /api/
    through json_error as well."""
    @app.errorhandler(HTTPException)
    def api_http_error(exc):
        if not request.path.startswith("/api/"):
            return exc
        return json_error(exc.code or 500, describe(exc), getattr(exc, "field", None))
