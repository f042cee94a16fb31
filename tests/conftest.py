"""Fixtures: a fresh database per test (SQLite always, PostgreSQL when TEST_DATABASE_URL is set),
the app and client on it, and helpers to log in as a seeded role."""

import pytest
from testkit import (  # noqa: F401  (re-exported for older imports)
    BACKENDS,
    PASSWORD,
    UPLOADS,
    StrictUndefined,
    _build_template,
    _pg_exec,
    _pg_url,
    _templates,
    csrf_token,
    database_copy,
    login,
    make_app,
)

from console.db import db


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
    with database_copy(backend, tmp_path) as url:
        yield url


@pytest.fixture
def app_config():
    """Override per test module to change settings (e.g. turn the captcha on)."""
    return {"CONSOLE_LOGIN_CAPTCHA": False}


@pytest.fixture
def app(database_url, app_config):
    app = make_app(database_url, **app_config)
    with db.connection_context():
        yield app
    db.close()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def login_as(client):
    """login_as("dispatcher") logs the client in as the seeded demo user of that role."""
    from console.system.seed import load
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
