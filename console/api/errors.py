"""API errors: every failure answers {"error": {"code", "message"[, "field"]}} with one of
400, 401, 403, 404, 409, 422 — never an HTML page or a redirect."""
from flask import jsonify, request
from flask_babel import gettext as _
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


def install(app):
    """Statuses Flask raises itself (405, 400 from a bad body, ...) answer JSON under /api/;
    elsewhere the default page stays. 403/404 keep web.py's own handlers, which already
    answer JSON for /api/ paths."""
    @app.errorhandler(HTTPException)
    def api_http_error(exc):
        if not request.path.startswith("/api/"):
            return exc
        code = {400: "bad_request", 405: "method_not_allowed"}.get(exc.code, "error")
        return jsonify({"error": {"code": code, "message": exc.description}}), exc.code
