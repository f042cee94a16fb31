"""One error vocabulary for every operation (DESIGN §5). Operations raise these; the console
shows them in one Flask-Admin hook (`views.base.GuardMixin.handle_view_exception`) and the API
maps them to a status by class (`api.errors.from_exception`). Nothing here imports Flask-Admin,
so any package may raise them.

    DomainError           a refused request; nothing was changed
    ├── InputError        bad input: `field` + reason (422)
    ├── ConflictError     the state changed or the thing is taken (409); `code` for the API
    ├── NotAllowed        not this user's to do (403)
    ├── NotFound          no such record in the caller's reach (404)
    └── TooMany           too many tries in a short time: wait and try again (429)
"""
from flask import has_request_context
from flask_babel import force_locale


def say(text, locale=None):
    """Render a (lazy) message in `locale`, else in the request's language, else (jobs, CLI,
    logs: no user to ask) in English."""
    if locale is None and has_request_context():
        return str(text)
    with force_locale(locale or "en"):
        return str(text)


class DomainError(ValueError):
    """A refused request with a message fit to show. The message may be lazy: it is rendered
    in the language of whoever reads it (`message`, `in_locale`)."""

    status = 409
    code = "conflict"
    field = None

    def __init__(self, message, *, field=None, code=None):
        super().__init__(message)
        self.lazy_message = message
        if field is not None:
            self.field = field
        if code is not None:
            self.code = code

    @property
    def message(self):
        return say(self.lazy_message)

    def in_locale(self, locale):
        return say(self.lazy_message, locale)

    def __str__(self):
        return self.message


class InputError(DomainError):
    """Bad input for one field (`field` names it; None when it concerns the whole request)."""

    status = 422
    code = "invalid"

    def __init__(self, field, message):
        super().__init__(message, field=field)


class ConflictError(DomainError):
    """The record is not in a state that allows this, or another request took it first."""

    status = 409
    code = "conflict"

    def __init__(self, message, code=None):
        super().__init__(message, code=code)


class NotAllowed(DomainError):
    status = 403
    code = "forbidden"


class NotFound(DomainError):
    status = 404
    code = "not_found"


class TooMany(DomainError):
    """Too many attempts (wrong service codes, and the like) in a short time; the caller must
    wait. `retry_after` is the number of seconds to wait, when known."""

    status = 429
    code = "too_many_requests"

    def __init__(self, message, retry_after=None):
        super().__init__(message)
        self.retry_after = retry_after
