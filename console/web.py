"""Plain routes around the console: health, captcha image, language switch, SMS password
recovery, and friendly error pages (JSON under /api/)."""
import base64
import hashlib

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf.csrf import CSRFError

from console import migrations
from console.api import errors as api_errors
from console.config import LOCALES
from console.db import db
from console.models import User
from console.security import CAPTCHA_SESSION_KEY
from console.system import accounts

bp = Blueprint("web", __name__)


@bp.route("/healthz")
def healthz():
    version = migrations.current_version()
    status = 200 if version == migrations.LATEST else 503
    return jsonify({"status": "ok" if status == 200 else "schema_outdated",
                    "schema_version": version, "expected_schema_version": migrations.LATEST}
                   ), status


@bp.route("/")
def home():
    return redirect("/admin/")


@bp.route("/login/captcha.png")
def captcha_image():
    text = accounts.new_captcha_text()
    session[CAPTCHA_SESSION_KEY] = accounts.captcha_digest(text, current_app.secret_key)
    return Response(accounts.captcha_png(text), mimetype="image/png",
                    headers={"Cache-Control": "no-store"})


@bp.route("/locale", methods=["POST"])
def switch_locale():
    chosen = request.form.get("locale", "")
    if chosen not in LOCALES:
        flash(_("Unknown language."), "error")
    else:
        session["locale"] = chosen
        if current_user.is_authenticated:
            with db.atomic():
                User.update(locale=chosen).where(User.id == current_user.id).execute()
    target = request.form.get("next") or "/admin/"
    return redirect(target if target.startswith("/") and not target.startswith("//")
                    else "/admin/")


@bp.route("/login/recover", methods=["GET", "POST"])
def recover():
    """Step 1: the phone number; an SMS code goes out through the outbox."""
    if request.method == "POST":
        phone = request.form.get("phone", "").strip()
        try:
            accounts.send_reset_code(phone, current_app.secret_key, _locale_now(),
                                     current_app.config["CONSOLE_SMS_CODE_MINUTES"],
                                     ip=request.remote_addr or "")
        except accounts.AccountError as exc:
            flash(str(exc.message), "error")
            return render_template("security/recover.html", step="phone", phone=phone), 422
        flash(_("If this number belongs to an account, a code has been sent to it."), "info")
        return redirect(url_for("web.recover_reset", phone=phone))
    return render_template("security/recover.html", step="phone", phone="")


@bp.route("/login/recover/reset", methods=["GET", "POST"])
def recover_reset():
    """Step 2: the code and a new password."""
    phone = request.values.get("phone", "").strip()
    if request.method == "POST":
        try:
            accounts.reset_password_with_code(phone, request.form.get("code"),
                                              request.form.get("password"),
                                              current_app.secret_key)
        except accounts.AccountError as exc:
            flash(str(exc.message), "error")
            return render_template("security/recover.html", step="code", phone=phone), 422
        flash(_("Your password has been changed; please log in."), "success")
        return redirect(url_for("security.login"))
    return render_template("security/recover.html", step="code", phone=phone)


def _locale_now():
    from flask_babel import get_locale
    return str(get_locale())


def _error_page(status, title, message, field=None):
    if request.path.startswith("/api/"):
        return api_errors.json_error(status, message, field)
    return render_template("errors/error.html", status=status, title=title,
                           message=message), status


# Statuses bad input meets (request guard, Flask): a page in the console, JSON under /api/.
INPUT_ERROR_PAGES = {
    400: (_l("Bad request"), _l("The request could not be understood. Go back and try again.")),
    413: (_l("Too large"), _l("What was sent is too large. Send less, or a smaller file.")),
    414: (_l("Address too long"), _l("The address is too long. Go back and try again.")),
    422: (_l("Invalid input"), _l("Some of what was sent cannot be accepted.")),
    431: (_l("Request too large"), _l("The request headers are too large. Clear this "
                                       "site's cookies and try again.")),
}


def _input_error(exc):
    title, message = INPUT_ERROR_PAGES[exc.code]
    if exc.description != type(exc).description:  # the guard said what exactly
        message = exc.description
    return _error_page(exc.code, title, message, getattr(exc, "field", None))


def init_app(app):
    app.register_blueprint(bp)
    install_context(app)
    install_security_headers(app)

    @app.errorhandler(403)
    def forbidden(exc):
        return _error_page(403, _l("Access denied"),
                           _l("Your roles do not allow this page or action. Ask a platform "
                              "administrator if you need it."))

    @app.errorhandler(404)
    def not_found(exc):
        return _error_page(404, _l("Not found"), _l("This page or record does not exist."))

    for status in INPUT_ERROR_PAGES:
        app.register_error_handler(status, _input_error)

    @app.errorhandler(CSRFError)
    def form_expired(exc):
        return _error_page(400, _("The form has expired"),
                           _("The page was open too long or was sent from somewhere else. "
                             "Go back, reload the page and try again."))


def install_context(app):
    from flask_babel import get_locale

    from console.system import rbac
    from console.views.labels import DATA_SCOPE_LABELS

    @app.context_processor
    def console_context():
        def console_menu():
            if not current_user.is_authenticated:
                return []
            return rbac.visible_menu(current_user, str(get_locale()))

        def scope_label():
            if not current_user.is_authenticated:
                return ""
            return DATA_SCOPE_LABELS[rbac.grants_for(current_user).scope]
        return {"console_menu": console_menu, "current_locale": str(get_locale()),
                "scope_label": scope_label() if current_user.is_authenticated else ""}


# ---- security headers ------------------------------------------------------------------------
# Flask-Talisman sets the CSP, frame options, nosniff, the referrer policy and HSTS (over HTTPS
# only). Inline <script> blocks carry the request's nonce (Flask-Admin's through its
# csp_nonce_generator, ours through `csp_nonce()`); a nonce cannot cover an inline event
# handler, so the few that Flask-Admin's templates (and ours) keep are allowed by the hash of
# their exact text ('unsafe-hashes') — an injected handler matches none of them.
CONTENT_SECURITY_POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self' 'unsafe-inline'",  # style attributes throughout Flask-Admin
    "img-src": "'self' data:",  # Bootstrap's select arrows are data: SVGs
    "font-src": "'self' data:",
    "connect-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'self'",
}
# Flask-Admin's dropdown links are href="javascript:void(0)": with 'unsafe-hashes' a
# javascript: URL is allowed by the hash of the whole URL.
INLINE_HANDLERS = ("this.form.submit()", "window.print()", "return false;",
                   "javascript:void(0)")
DELETE_CONFIRMATION = "Are you sure you want to delete this record?"  # Flask-Admin's text


def inline_handler_hashes(app):
    """CSP hashes of the inline event handlers the console's pages carry: ours, each list
    action's and the delete confirmation in every language."""
    from flask_admin.babel import gettext as admin_gettext
    from flask_babel import force_locale

    handlers = set(INLINE_HANDLERS)
    for view in app.extensions["console_admin"]._views:
        handlers.update(f"return modelActions.execute('{name}');"
                        for name, _text in getattr(view, "_actions", ()))
    with app.test_request_context():
        for locale in LOCALES:
            with force_locale(locale):
                confirmation = admin_gettext(DELETE_CONFIRMATION)
            handlers.add(f"return faHelpers.safeConfirm('{confirmation}');")
    return sorted(f"'sha256-{_sha256(handler)}'" for handler in handlers)


def _sha256(text):
    return base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()


def install_security_headers(app):
    from flask_talisman import Talisman

    policy = dict(CONTENT_SECURITY_POLICY)
    policy["script-src"] = " ".join(["'self'", "'unsafe-hashes'", *inline_handler_hashes(app)])
    Talisman(app, force_https=False,  # TLS ends at the proxy, which redirects plain HTTP
             session_cookie_secure=False,  # security.py marks cookies Secure over HTTPS
             session_cookie_samesite="Lax", frame_options="SAMEORIGIN",
             strict_transport_security=True, strict_transport_security_include_subdomains=False,
             content_security_policy=policy, content_security_policy_nonce_in=["script-src"],
             referrer_policy="same-origin", x_xss_protection=False,
             permissions_policy={"camera": "()", "microphone": "()", "geolocation": "()",
                                 "browsing-topics": "()"})
    app.extensions["console_admin"].csp_nonce_generator = csp_nonce

    @app.after_request
    def personal_data_is_not_stored(response):
        """Pages and API answers carry personal data: no cache may keep them. Static files
        may be cached."""
        endpoint = request.endpoint or ""
        if endpoint != "static" and not endpoint.endswith(".static"):
            response.headers["Cache-Control"] = "no-store"
        return response


def csp_nonce():
    return getattr(request, "csp_nonce", "")
