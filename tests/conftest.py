"""Fixtures: a fresh database per test (SQLite always, PostgreSQL when TEST_DATABASE_URL is set),
the app and client on it, and helpers to log in as a seeded role."""
import os
import re
import shutil
import uuid
from urllib.parse import urlparse, urlunparse

import pytest

from console import create_app
from console.db import db

BACKENDS = ["sqlite"] + (["postgres"] if os.environ.get("TEST_DATABASE_URL") else [])
PASSWORD = "Demo@2026"
_templates = {}


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


def _build_template(backend, tmp_root):
    """Migrate and seed once per backend; each test then gets a cheap copy."""
    if backend == "sqlite":
        path = tmp_root / "template.db"
        url = f"sqlite:///{path}"
    else:
        name = f"console_tmpl_{uuid.uuid4().hex[:10]}"
        _pg_exec(f'CREATE DATABASE "{name}"')
        url = _pg_url(os.environ["TEST_DATABASE_URL"], name)
    app = create_app({"CONSOLE_DATABASE_URL": url, "TESTING": True})
    runner = app.test_cli_runner()
    for args in (["init-db"], ["demo"]):
        result = runner.invoke(args=args)
        assert result.exit_code == 0, result.output
    db.close()
    db.obj.close() if db.obj else None
    return path if backend == "sqlite" else name


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request, tmp_path_factory):
    name = request.param
    if name not in _templates:
        _templates[name] = _build_template(name, tmp_path_factory.mktemp(name))
    yield name
    if name == "postgres":
        _pg_exec(f'DROP DATABASE IF EXISTS "{_templates.pop(name)}" WITH (FORCE)')


@pytest.fixture
def database_url(backend, tmp_path):
    if backend == "sqlite":
        path = tmp_path / "console.db"
        shutil.copy(_templates["sqlite"], path)
        yield f"sqlite:///{path}"
        return
    name = f"console_test_{uuid.uuid4().hex[:10]}"
    _pg_exec(f'CREATE DATABASE "{name}" TEMPLATE "{_templates["postgres"]}"')
    yield _pg_url(os.environ["TEST_DATABASE_URL"], name)
    db.close()
    _pg_exec(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def app_config():
    """Override per test module to change settings (e.g. turn the captcha on)."""
    return {"CONSOLE_LOGIN_CAPTCHA": False}


@pytest.fixture
def app(database_url, app_config):
    app = create_app({"CONSOLE_DATABASE_URL": database_url, "TESTING": True, **app_config})
    app.jinja_env.undefined = __import__("jinja2").StrictUndefined
    with db.connection_context():
        yield app
    db.close()


@pytest.fixture
def client(app):
    return app.test_client()


def csrf_token(client, path="/login"):
    page = client.get(path)
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.get_data(as_text=True))
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def login(client, identity, password=PASSWORD, **extra):
    token = csrf_token(client)
    return client.post("/login", data={"identity": identity, "password": password,
                                       "csrf_token": token, **extra})


@pytest.fixture
def login_as(client):
    """login_as("dispatcher") logs the client in as the seeded demo user of that role."""
    from console.seed import load
    by_role = {row["role"]: row for row in load("demo_users.json")}

    def do(role_or_email, password=PASSWORD):
        identity = by_role[role_or_email]["email"] if role_or_email in by_role else role_or_email
        response = login(client, identity, password)
        assert response.status_code == 302, response.get_data(as_text=True)[:2000]
        return client
    return do


@pytest.fixture
def form_token(client):
    def get(path):
        return csrf_token(client, path)
    return get
