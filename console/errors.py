"""The error operations raise for a refused request. It lives outside the views so domain
modules (orders, dispatch, ...) can raise it without importing Flask-Admin."""


class DomainError(ValueError):
    """Raised by operations with a message fit to show; views flash it and change nothing."""
