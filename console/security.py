"""Flask-Security wiring: the datastore; a login form that accepts email, phone or account
name, checks the image captcha on the web, throttles repeated failures per identity and per
address (console/system/accounts.py) and keeps app-only accounts out of the console; and the
session rules: SameSite cookies, Secure over HTTPS, expiring app tokens that open only the API
and end at logout."""
import datetime as dt

from flask import current_app, g, request, session
from flask.sessions import SecureCookieSessionInterface
from flask_babel import lazy_gettext as _l
from flask_login import user_logged_in, user_logged_out
from flask_security import LoginForm, PeeweeUserDatastore, Security
from werkzeug.middleware.proxy_fix import ProxyFix
from wtforms import StringField
from wtforms.validators import DataRequired

from console.config import setting
from console.db import db
from console.models import Role, User, UserRoles
from console.system import accounts, params, rbac

security = Security()
CAPTCHA_SESSION_KEY = "captcha_digest"
API_PATH = "/api/"
APP_ONLY_ROLES = {"butler", "customer"}
APP_ONLY_MESSAGE = _l("Butler and customer accounts sign in to the mobile app; the console is "
                      "for platform and supplier staff.")


class LoginAttempt:
    """One try at logging in, as the login history records it (with its reason)."""

    def __init__(self, identity, ip, user_agent):
        self.identity, self.ip, self.user_agent = identity, ip, user_agent

    def record(self, reason, user=None):
        """Write the attempt; False, so a refusing validator can `return attempt.record(...)`."""
        accounts.record_login(self.identity, self.ip, reason == "ok", reason, user,
                              self.user_agent)
        return False


class ConsoleLoginForm(LoginForm):
    email = None  # replaced by `identity`: email, mobile or account name
    identity = StringField(_l("Email, mobile or account name"),
                           validators=[DataRequired(message=_l("Enter your account."))],
                           render_kw={"autocomplete": "username"})
    captcha = StringField(_l("Captcha"), render_kw={"autocomplete": "off"})

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.captcha_required = captcha_on()  # also once the identity is under attack

    def validate(self, **kwargs):
        identity = (self.identity.data or "").strip()
        attempt = LoginAttempt(identity, request.remote_addr or "",
                               request.headers.get("User-Agent", ""))
        policy = accounts.login_policy()
        if self.captcha_required and not self._captcha_ok():
            return attempt.record("captcha")
        if accounts.recent_failures(ip=attempt.ip, minutes=policy.window_minutes) \
                >= params.param("security.ip_max_failures"):
            self.form_errors.append(_l("Too many failed logins from this address; "
                                       "please wait a few minutes."))
            return attempt.record("ip_throttled")
        if not identity or not self.password.data:
            return super().validate(**kwargs)  # field errors only; nothing was tried
        self.ifield = self.identity
        self.user = rbac.user_for_identity(identity)
        # From here on a known and an unknown identity go through the same steps.
        locked_until = accounts.pair_lock_until(self.user, identity, attempt.ip, policy)
        if locked_until is not None:  # refused before the password is even checked
            self.identity.errors = [accounts.locked_message(accounts.minutes_until(locked_until))]
            return attempt.record("locked", self.user)
        if not self._guessing_slowed(identity, attempt, policy):
            return False
        if super().validate(**kwargs):
            if not request.is_json and app_only(self.user):
                self.identity.errors = [APP_ONLY_MESSAGE]
                return attempt.record("app_only", self.user)
            attempt.record("ok", self.user)
            return True
        return self._refused(attempt, policy)

    def _guessing_slowed(self, identity, attempt, policy):
        """An identity guessed at from many addresses: the web form demands the captcha; app
        logins (no captcha) get one try per `slow_seconds`, except where it logged in before."""
        if not accounts.identity_under_attack(self.user, identity, policy):
            return True
        if not request.is_json:
            if self.captcha_required:
                return True  # solved above
            self.captcha_required = True
            if not self._captcha_ok():
                return attempt.record("captcha")
            return True
        wait = accounts.slow_down_seconds(self.user, identity, attempt.ip, policy)
        if wait:
            self.identity.errors = [accounts.slowed_message(wait)]
            return attempt.record("slowed", self.user)
        return True

    def _refused(self, attempt, policy):
        if self.user is None or self.password.errors:
            # One message for an unknown account and a wrong password: no enumeration.
            reason = "no_user" if self.user is None else "bad_password"
            self.identity.errors = []
            self.password.errors = [_l("The account or the password is wrong.")]
        else:
            reason = "refused"  # disabled account, and the like: Flask-Security's message
        attempt.record(reason, self.user)
        if reason in accounts.FAILED_PASSWORD:
            until = accounts.note_failed_password(self.user, attempt.identity, attempt.ip,
                                                  policy)
            if until is not None:
                self.password.errors = []
                self.identity.errors = [accounts.locked_message(accounts.minutes_until(until))]
        return False

    def _captcha_ok(self):
        if request.is_json:
            return True
        expected = session.pop(CAPTCHA_SESSION_KEY, None)  # one guess per image
        given = accounts.captcha_digest(self.captcha.data or "", current_app.secret_key)
        if not self.captcha.data or expected != given:
            self.captcha.errors = [_l("The captcha is wrong; a new one is shown.")]
            return False
        return True


def captcha_on():
    """The web form shows the captcha (apps log in with JSON and never see one)."""
    return bool(setting("CONSOLE_LOGIN_CAPTCHA")) and not request.is_json


def app_only(user):
    """Butlers and customers use the apps; an account holding only their roles has no
    business in the console."""
    roles = {role.name for role in Role.select(Role.name).join(UserRoles)
             .where(UserRoles.user == user.id)}
    return bool(roles) and roles <= APP_ONLY_ROLES


def _token_lifetime_in_force():
    """Flask-Security reads the token lifetime from the config when it checks a token: keep it
    at the value in force (参数设置 security.token_hours; it changes with the version counter)."""
    if request.path.startswith("/api/"):
        g.rbac_version = rbac.refresh_if_stale()  # before the token is read (reused below)
        current_app.config["SECURITY_TOKEN_MAX_AGE"] = dt.timedelta(
            hours=params.param("security.token_hours"))


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
    app.config["SECURITY_TOKEN_MAX_AGE"] = dt.timedelta(
        hours=params.REGISTRY["security.token_hours"].default)
    app.before_request(_token_lifetime_in_force)
    # Flask-Security's own header comes out as "private=True, no-store=True"; web.py sets
    # `Cache-Control: no-store` on every page instead.
    app.config["SECURITY_CACHE_CONTROL"] = None
    for name in ("SESSION_COOKIE_SAMESITE", "REMEMBER_COOKIE_SAMESITE"):
        app.config.setdefault(name, "Lax")
    app.config["SESSION_COOKIE_HTTPONLY"] = app.config["REMEMBER_COOKIE_HTTPONLY"] = True
    app.session_interface = ConsoleSessionInterface()
    _behind_proxies(app)
    datastore = PeeweeUserDatastore(db, User, Role, UserRoles)
    security.init_app(app, datastore, login_form=ConsoleLoginForm)
    _json_login_without_csrf(app)
    _tokens_for_the_api_only(app)
    user_logged_in.connect(_json_login_gets_no_cookie, app)
    user_logged_out.connect(_logout_ends_every_session, app)
    return security


class ConsoleSessionInterface(SecureCookieSessionInterface):
    """Cookies are Secure whenever the request came over HTTPS (behind a proxy: see
    CONSOLE_TRUSTED_PROXIES), and app requests — a token, or the JSON login handing one out —
    get no cookie at all: the token is their only credential."""

    def get_cookie_secure(self, app):
        return bool(app.config["SESSION_COOKIE_SECURE"] or request.is_secure)

    def save_session(self, app, session, response):
        if g.get("console_no_cookie"):
            return
        super().save_session(app, session, response)
        if request.is_secure:  # the remember cookie, which Flask-Login has set by now
            _mark_cookies_secure(response)


def _mark_cookies_secure(response):
    cookies = response.headers.getlist("Set-Cookie")
    marked = [cookie if any(part.strip().lower() == "secure" for part in cookie.split(";"))
              else cookie + "; Secure" for cookie in cookies]
    if marked != cookies:
        response.headers.setlist("Set-Cookie", marked)


def _behind_proxies(app):
    """Believe X-Forwarded-For/-Proto from this many reverse proxies: the client's address
    is what logins are throttled by, and HTTPS at the proxy makes cookies Secure."""
    hops = setting("CONSOLE_TRUSTED_PROXIES", app)
    if hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)


def _tokens_for_the_api_only(app):
    """The Authentication-Token header (or `auth_token`) opens the JSON API and nothing else:
    an app's token does not open console pages, and a token request gets no cookie."""
    manager = app.login_manager
    load_from_token = manager._request_callback

    def api_request_loader(request):
        if not request.path.startswith(API_PATH):
            return None
        user = load_from_token(request)
        if user is not None:
            g.console_no_cookie = True
        return user

    manager.request_loader(api_request_loader)


def _json_login_gets_no_cookie(app, user, **extra):
    if request.is_json:
        g.console_no_cookie = True
        session.pop("_remember", None)  # no remember cookie either


def _logout_ends_every_session(app, user, **extra):
    """Logging out ends the account's sessions and app tokens everywhere (they are all tied
    to `fs_uniquifier`): a lost phone's token dies with the next logout anywhere."""
    if user is not None and getattr(user, "id", None) is not None:
        accounts.end_sessions(user)


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
