"""Fixtures: the app built once per session and backend (SQLite always, PostgreSQL when
TEST_DATABASE_URL is set), pointed at a fresh copy of the migrated and seeded template for each
test; the client on it, and helpers to log in as a seeded role.

Isolation: each test's database is its own. In a module marked `pytest.mark.rolled_back` the
tests share one copy and each runs inside a transaction undone at its end — cheaper, for tests
that need no second connection (no threads, no other processes, no commits they must see)."""

import pytest
import testkit
from testkit import PASSWORD, csrf_token, login  # noqa: F401  (tests import these from here)

from console.db import db


@pytest.fixture(scope="session", params=testkit.BACKENDS)
def backend(request, tmp_path_factory):
    name = request.param
    testkit.build_template(name, tmp_path_factory.mktemp(name))
    yield name
    testkit.drop_template(name)


@pytest.fixture
def database_url(backend, tmp_path):
    """This test's own copy of the template."""
    with testkit.database_copy(backend, tmp_path) as url:
        yield url


@pytest.fixture(scope="module")
def module_database_url(backend, tmp_path_factory):
    """One copy of the template for a `rolled_back` module."""
    with testkit.database_copy(backend, tmp_path_factory.mktemp("module")) as url:
        yield url


@pytest.fixture
def app_config():
    """Override per test module to change settings (e.g. turn the captcha on). Settings read per
    request are applied to the shared app for the test; others give the test an app of its own."""
    return {"CONSOLE_LOGIN_CAPTCHA": False}


@pytest.fixture
def app(request, backend, app_config):
    """The app on a database that is this test's alone (see the module docstring)."""
    rolled_back = request.node.get_closest_marker("rolled_back") is not None
    url = request.getfixturevalue("module_database_url" if rolled_back else "database_url")
    with testkit.app_for_test(backend, url, app_config) as app:
        with db.connection_context():
            if rolled_back:
                with db.atomic() as transaction:
                    yield app
                    transaction.rollback()
            else:
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


# ---- the API fuzz run's case count, printed at the end of every run (test_api_fuzz.py) ------
_FUZZ_RUNS = []


def pytest_runtest_logreport(report):
    if report.when == "call":
        _FUZZ_RUNS.extend(value for name, value in report.user_properties if name == "api_fuzz")


def pytest_terminal_summary(terminalreporter):
    if _FUZZ_RUNS:
        terminalreporter.section("API fuzz (schemathesis)")
        for run in sorted(_FUZZ_RUNS, key=lambda r: (r["backend"], r["role"])):
            terminalreporter.write_line(
                "{backend}: {cases} cases over {operations} operations as {role} in "
                "{seconds} s ({cpu} s CPU), {server_errors} server errors".format(**run))
        terminalreporter.write_line(f"total: {sum(r['cases'] for r in _FUZZ_RUNS)} cases")
