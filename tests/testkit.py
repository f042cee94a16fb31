"""What the tests share besides fixtures: template databases per backend, cheap fresh copies,
and logging in through the real form. (Kept out of conftest.py: tests/e2e has its own
conftest, and `import conftest` would find either.)"""
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
from console.db import db

BACKENDS = ["sqlite"] + (["postgres"] if os.environ.get("TEST_DATABASE_URL") else [])
PASSWORD = "Demo@2026"
_templates = {}
# Uploaded files of the template databases live outside the repository, shared by the copies.
UPLOADS = Path(tempfile.mkdtemp(prefix="console-test-uploads-"))
atexit.register(shutil.rmtree, UPLOADS, ignore_errors=True)


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
    name = f"console_test_{uuid.uuid4().hex[:10]}"
    _pg_exec(f'CREATE DATABASE "{name}" TEMPLATE "{_templates[backend]}"')
    try:
        yield _pg_url(os.environ["TEST_DATABASE_URL"], name)
    finally:
        db.close()
        _pg_exec(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def make_app(url, **config):
    """The app on `url` as tests use it: uploads outside the repository, strict templates."""
    app = create_app({"CONSOLE_DATABASE_URL": url, "TESTING": True,
                      "CONSOLE_UPLOAD_DIR": str(UPLOADS), **config})
    app.jinja_env.undefined = StrictUndefined
    return app


def _build_template(backend, tmp_root):
    """Migrate and seed once per backend; each test then gets a cheap copy."""
    if backend == "sqlite":
        path = tmp_root / "template.db"
        url = f"sqlite:///{path}"
    else:
        name = f"console_tmpl_{uuid.uuid4().hex[:10]}"
        _pg_exec(f'CREATE DATABASE "{name}"')
        url = _pg_url(os.environ["TEST_DATABASE_URL"], name)
    app = create_app({"CONSOLE_DATABASE_URL": url, "TESTING": True,
                      "CONSOLE_UPLOAD_DIR": str(UPLOADS)})
    runner = app.test_cli_runner()
    for args in (["init-db"], ["demo"]):
        result = runner.invoke(args=args)
        assert result.exit_code == 0, result.output
    db.close()
    db.obj.close() if db.obj else None
    return path if backend == "sqlite" else name


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


