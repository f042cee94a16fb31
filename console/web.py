"""Plain routes around the console: health, captcha image, language switch, SMS password
recovery, and friendly error pages (JSON under /api/)."""
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
from flask_login import current_user
from flask_wtf.csrf import CSRFError

from console import migrations
from console.config import LOCALES
from console.db import db
from console.models import User
from console.security import CAPTCHA_SESSION_KEY
from console.system import accounts

bp = Blueprint("web", __name__)
ERROR_CODES = {400: "bad_request", 403: "forbidden", 404: "not_found"}


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


def _error_page(status, title, message):
    if request.path.startswith("/api/"):
        code = ERROR_CODES.get(status, "error")
        return jsonify({"error": {"code": code, "message": message}}), status
    return render_template("errors/error.html", status=status, title=title,
                           message=message), status


def init_app(app):
    app.register_blueprint(bp)
    install_context(app)

    @app.errorhandler(403)
    def forbidden(exc):
        return _error_page(403, _("Access denied"),
                           _("Your roles do not allow this page or action. Ask a platform "
                             "administrator if you need it."))

    @app.errorhandler(404)
    def not_found(exc):
        return _error_page(404, _("Not found"), _("This page or record does not exist."))

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
