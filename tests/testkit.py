"""What the tests share besides fixtures: template databases per backend, cheap fresh copies,
one app per backend pointed at each test's copy, and logging in through the real form. (Kept
out of conftest.py: tests/e2e has its own conftest, and `import conftest` would find either.)"""
import atexit
import os
import re
import shutil
import tempfile
import uuid
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlparse, urlunparse

import jinja2

from console import create_app
from console.db import db, open_database
from console.system import rbac

BACKENDS = ["sqlite"] + (["postgres"] if os.environ.get("TEST_DATABASE_URL") else [])
PASSWORD = "Demo@2026"
# pytest-xdist runs the suite in several processes: each names its databases after itself.
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "main")
_templates = {}  # backend -> template file (SQLite) or database name
_apps = {}  # backend -> the app shared by the tests on that backend
# Uploaded files of the template databases live outside the repository, shared by the copies.
UPLOADS = Path(tempfile.mkdtemp(prefix="console-test-uploads-"))
atexit.register(shutil.rmtree, UPLOADS, ignore_errors=True)

# argon2 at its cheapest (1 pass over 8 KiB, one lane): ~50 µs a hash instead of ~0.1 s. Still
# argon2, so logins check real argon2 hashes; only tests set it (Flask-Security's own tests
# hash cheaply too). Production keeps argon2's defaults: test_testkit.py checks that.
CHEAP_HASHING = {"argon2__rounds": 1, "argon2__memory_cost": 8, "argon2__parallelism": 1}
# What every test app gets: uploads outside the repository, cheap hashing, no captcha.
TEST_CONFIG = {"TESTING": True, "CONSOLE_UPLOAD_DIR": str(UPLOADS),
               "SECURITY_PASSWORD_HASH_PASSLIB_OPTIONS": CHEAP_HASHING,
               "CONSOLE_LOGIN_CAPTCHA": False}
# Settings the console reads on each request (`setting()` / `current_app.config`), never while
# building the app (test_testkit.py checks): a test may change them on the shared app for its
# own duration. Any other setting (CONSOLE_TIMEZONE goes into Flask-Babel at start-up,
# SECURITY_* into Flask-Security) gets the test an app of its own.
PER_REQUEST_SETTINGS = {
    "CONSOLE_LOCALE", "CONSOLE_LOGIN_CAPTCHA", "CONSOLE_SMS_CODE_MINUTES",
    "CONSOLE_CHECK_SCHEMA", "CONSOLE_UPLOAD_DIR", "CONSOLE_UPLOAD_MAX_BYTES",
}


def _pg_exec(sql):
    """Run one statement outside any transaction (CREATE/DROP DATABASE need that)."""
    import psycopg2
    parsed = urlparse(os.environ["TEST_DATABASE_URL"])
    conn = psycopg2.connect(host=parsed.hostname, port=parsed.port or 5432,
                            user=parsed.username, password=parsed.password,
                            dbname=parsed.path.lstrip("/") or "postgres")
    conn.autocommit = True
    try:
        conn.cursor().execute(sql)
    finally:
        conn.close()


def _pg_url(base, name):
    return urlunparse(urlparse(base)._replace(path=f"/{name}"))


@contextmanager
def database_copy(backend, directory):
    """A private copy of the backend's migrated and seeded template; yields its URL and drops
    the copy afterwards."""
    if backend == "sqlite":
        path = Path(directory) / "console.db"
        shutil.copy(_templates["sqlite"], path)
        yield f"sqlite:///{path}"
        return
    name = f"console_test_{WORKER}_{uuid.uuid4().hex[:10]}"
    _pg_exec(f'CREATE DATABASE "{name}" TEMPLATE "{_templates[backend]}"')
    try:
        yield _pg_url(os.environ["TEST_DATABASE_URL"], name)
    finally:
        db.close()
        _pg_exec(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def make_app(url, **config):
    """A new app on `url` as tests use it (TEST_CONFIG, then `config`), with strict templates.
    Building one costs a fifth of a second: most tests get the shared one (`app_for_test`)."""
    app = create_app({**TEST_CONFIG, "CONSOLE_DATABASE_URL": url, **config})
    app.jinja_env.undefined = StrictUndefined
    return app


def point_at(app, url):
    """Point `app` (and this process: the database handle is global) at the database `url`, and
    forget what was learned from the previous one: the RBAC cache and the schema check."""
    db.close()
    open_database(url)
    rbac.forget()
    app.extensions["console_schema_seen_current"].clear()


@contextmanager
def app_for_test(backend, url, config):
    """The app one test runs with, on its database `url`: the backend's shared app (built with
    the template) with `config` applied until the test ends, or — when `config` changes a
    setting read only at start-up — an app of the test's own."""
    shared = _apps[backend]
    changed = {key: value for key, value in config.items()
               if key not in shared.config or shared.config[key] != value}
    if not changed.keys() <= PER_REQUEST_SETTINGS:
        yield make_app(url, **config)
        return
    saved = dict(shared.config)
    shared.config.update(changed)
    point_at(shared, url)
    try:
        yield shared
    finally:
        shared.config.clear()
        shared.config.update(saved)


def build_template(backend, tmp_root):
    """Migrate and seed once per backend; each test then gets a cheap copy of the result. The
    app that built it is the backend's shared app."""
    if backend in _templates:
        return
    if backend == "sqlite":
        path = tmp_root / "template.db"
        url = f"sqlite:///{path}"
    else:
        name = f"console_tmpl_{WORKER}_{uuid.uuid4().hex[:10]}"
        _pg_exec(f'CREATE DATABASE "{name}"')
        url = _pg_url(os.environ["TEST_DATABASE_URL"], name)
    try:
        app = make_app(url)
        runner = app.test_cli_runner()
        for args in (["init-db"], ["demo"]):
            result = runner.invoke(args=args)
            assert result.exit_code == 0, result.output
    except BaseException:
        if backend == "postgres":  # no stray template left on the server
            if db.obj is not None:
                db.close()
            _pg_exec(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        raise
    db.close()
    db.obj.close() if db.obj else None  # SQLite: the file is whole (no WAL) before it is copied
    _templates[backend] = path if backend == "sqlite" else name
    _apps[backend] = app


def drop_template(backend):
    """At the end of the session: PostgreSQL's template goes (SQLite's is a temporary file)."""
    if backend == "postgres" and backend in _templates:
        _apps.pop(backend)
        _pg_exec(f'DROP DATABASE IF EXISTS "{_templates.pop(backend)}" WITH (FORCE)')


class StrictUndefined(jinja2.StrictUndefined):
    """Strict, except Flask-Admin's own probe `field.widget.input_type == ...` when it shows a
    field's error: select widgets have no input_type, and that is not our template's mistake."""

    def __eq__(self, other):
        if self._undefined_name == "input_type":
            return False
        return super().__eq__(other)

    __hash__ = jinja2.StrictUndefined.__hash__


def csrf_token(client, path="/login"):
    page = client.get(path)
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.get_data(as_text=True))
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def login(client, identity, password=PASSWORD, **extra):
    token = csrf_token(client)
    return client.post("/login", data={"identity": identity, "password": password,
                                       "csrf_token": token, **extra})


