"""Flask-Security wiring: the datastore, and a login form that accepts email, phone or account
name, checks the image captcha on the web, and throttles and locks out repeated failures."""
from flask import current_app, g, request, session
from flask_babel import lazy_gettext as _l
from flask_security import LoginForm, PeeweeUserDatastore, Security
from wtforms import StringField
from wtforms.validators import DataRequired

from console.config import setting
from console.db import db
from console.models import Role, User, UserRoles
from console.system import accounts, rbac

security = Security()
CAPTCHA_SESSION_KEY = "captcha_digest"


class LoginAttempt:
    """One try at logging in, as the login history records it (with its reason)."""

    def __init__(self, identity, ip, user_agent):
        self.identity, self.ip, self.user_agent = identity, ip, user_agent

    def record(self, reason, user=None):
        accounts.record_login(self.identity, self.ip, reason == "ok", reason, user,
                              self.user_agent)


class ConsoleLoginForm(LoginForm):
    email = None  # replaced by `identity`: email, mobile or account name
    identity = StringField(_l("Email, mobile or account name"),
                           validators=[DataRequired(message=_l("Enter your account."))],
                           render_kw={"autocomplete": "username"})
    captcha = StringField(_l("Captcha"), render_kw={"autocomplete": "off"})

    def validate(self, **kwargs):
        identity = (self.identity.data or "").strip()
        attempt = LoginAttempt(identity, request.remote_addr or "",
                               request.headers.get("User-Agent", ""))
        if not self._captcha_ok():
            attempt.record("captcha")
            return False
        if accounts.recent_failures(ip=attempt.ip,
                                    minutes=setting("CONSOLE_LOGIN_WINDOW_MINUTES")) \
                >= setting("CONSOLE_IP_MAX_FAILURES"):
            self.form_errors.append(_l("Too many failed logins from this address; "
                                       "please wait a few minutes."))
            attempt.record("ip_throttled")
            return False
        if not identity or not self.password.data:
            return super().validate(**kwargs)  # field errors only; nothing was tried
        self.ifield = self.identity
        self.user = rbac.user_for_identity(identity)
        if self.user is not None and accounts.lock_minutes_left(self.user):
            # Locked accounts are refused before the password is even checked.
            self.identity.errors = [accounts.locked_message(
                accounts.lock_minutes_left(self.user))]
            attempt.record("locked", self.user)
            return False
        if super().validate(**kwargs):
            attempt.record("ok", self.user)
            return True
        return self._refused(attempt)

    def _refused(self, attempt):
        if self.user is None or self.password.errors:
            # One message for an unknown account and a wrong password: no enumeration.
            reason = "no_user" if self.user is None else "bad_password"
            self.identity.errors = []
            self.password.errors = [_l("The account or the password is wrong.")]
        else:
            reason = "refused"  # disabled account, and the like: Flask-Security's message
        attempt.record(reason, self.user)
        if reason == "bad_password":
            until = accounts.lock_if_needed(self.user, setting("CONSOLE_LOGIN_MAX_FAILURES"),
                                            setting("CONSOLE_LOGIN_LOCK_MINUTES"),
                                            setting("CONSOLE_LOGIN_WINDOW_MINUTES"))
            if until:
                self.password.errors = []
                self.identity.errors = [accounts.locked_message(
                    setting("CONSOLE_LOGIN_LOCK_MINUTES"))]
        return False

    def _captcha_ok(self):
        if not setting("CONSOLE_LOGIN_CAPTCHA") or request.is_json:
            return True
        expected = session.pop(CAPTCHA_SESSION_KEY, None)  # one guess per image
        given = accounts.captcha_digest(self.captcha.data or "", current_app.secret_key)
        if not self.captcha.data or expected != given:
            self.captcha.errors = [_l("The captcha is wrong; a new one is shown.")]
            return False
        return True


def init_app(app):
    app.config.setdefault("SECURITY_PASSWORD_HASH", "argon2")
    app.config.setdefault("SECURITY_TRACKABLE", True)
    app.config.setdefault("SECURITY_LOGIN_URL", "/login")
    app.config.setdefault("SECURITY_POST_LOGIN_VIEW", "/admin/")
    app.config.setdefault("SECURITY_POST_LOGOUT_VIEW", "/login")
    app.config.setdefault("SECURITY_RECOVERABLE", False)  # SMS recovery lives in web.py
    app.config.setdefault("SECURITY_SEND_REGISTER_EMAIL", False)
    app.config.setdefault("SECURITY_TOKEN_AUTHENTICATION_HEADER", "Authentication-Token")
    app.config.setdefault("SECURITY_CSRF_IGNORE_UNAUTH_ENDPOINTS", False)
    app.config.setdefault("SECURITY_USER_IDENTITY_ATTRIBUTES",
                          [{"email": {"mapper": lambda v: v, "case_insensitive": True}}])
    datastore = PeeweeUserDatastore(db, User, Role, UserRoles)
    security.init_app(app, datastore, login_form=ConsoleLoginForm)
    _json_login_without_csrf(app)
    return security


def _json_login_without_csrf(app):
    """The apps log in with a JSON body and no cookie yet, so they hold no CSRF token. A
    browser cannot send a cross-site JSON body without a CORS preflight, so JSON logins skip
    the token; form logins still need it (Flask-Security's `unauth_csrf` checks it)."""
    csrf = app.extensions["csrf"]
    csrf.exempt(app.view_functions["security.login"])

    @app.before_request
    def mark_json_login_csrf_valid():
        if request.endpoint == "security.login" and request.is_json:
            g.csrf_valid = True
