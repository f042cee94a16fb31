"""The app factory: `create_app(config)` wires config, database, security, admin and CLI."""
from pathlib import Path

from flask import Flask, g, jsonify, request
from flask_babel import Babel
from flask_login import current_user
from flask_wtf.csrf import CSRFProtect

from console import guard, i18n, migrations
from console.config import build_config
from console.db import db, open_database
from console.system import rbac
from console.system.audit import acting_as

ROOT = Path(__file__).resolve().parent.parent
csrf = CSRFProtect()
babel = Babel()


def create_app(config: dict | None = None) -> Flask:
    app = Flask(__name__, instance_path=str(ROOT / "instance"),
                template_folder=str(ROOT / "templates"), static_folder="static")
    guard.install(app)  # before any route or hook: bounded ids, bodies checked first
    app.config.update(build_config(app.instance_path, config))
    open_database(app.config["CONSOLE_DATABASE_URL"])
    rbac.forget()

    i18n.compile_catalogues()
    babel.init_app(app, locale_selector=i18n.select_locale,
                   default_translation_directories=";".join(i18n.catalogue_dirs()),
                   default_timezone=app.config["CONSOLE_TIMEZONE"])
    csrf.init_app(app)

    from console import api, security, views, web
    security.init_app(app)
    views.init_app(app)
    web.init_app(app)
    api.init_app(app)
    _install_request_hooks(app)

    from console import cli
    cli.init_app(app)

    with db.connection_context():
        if migrations.current_version() == migrations.LATEST:
            rbac.sync_resources(views.declared_resources(app))
    return app


def _install_request_hooks(app):
    # per app: once current, the check is skipped (tests empty it to point the app elsewhere)
    schema_seen_current = app.extensions["console_schema_seen_current"] = []

    @app.before_request
    def open_connection():
        g.opened_db = db.connect(reuse_if_open=True)
        if (app.config["CONSOLE_CHECK_SCHEMA"] and not schema_seen_current
                and request.endpoint not in ("healthz", "static")):
            version = migrations.current_version()
            if version == migrations.LATEST:
                schema_seen_current.append(True)  # schemas only move forward: stop asking
            else:
                message = (f"Database schema is at version {version}, this code needs "
                           f"{migrations.LATEST}: run `flask --app run init-db`.")
                return jsonify({"error": {"code": "schema_outdated", "message": message}}), 503
        if g.get("rbac_version") is None:  # the API's token hook may have compared already
            g.rbac_version = rbac.refresh_if_stale()
        # the real user, not the proxy: the audit actor must outlive the request
        user = current_user._get_current_object() if current_user.is_authenticated else None
        acting_as(user, request.remote_addr or "")

    @app.teardown_request
    def close_connection(exc):
        acting_as(None)  # work after the request (CLI, jobs, tests) is not this user's
        if g.get("opened_db") and not db.is_closed():
            db.close()
