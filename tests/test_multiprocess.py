"""Two real server processes on one database: a role change made through one process is seen
by the other on its very next request (the RBAC version counter), in either direction."""
import http.cookiejar
import json
import re
import urllib.error
import urllib.parse
import urllib.request

import pytest
from servers import server_env, start_servers

from console import migrations
from console.models import Permission, Role
from console.system import rbac

PASSWORD = "Demo@2026"


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Visitor:
    """A cookie-keeping HTTP client for one server: get/post answer (status, body)."""

    def __init__(self, base_url):
        self.base_url = base_url
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), _NoRedirect)

    def request(self, path, form=None):
        data = urllib.parse.urlencode(form, doseq=True).encode() if form is not None else None
        try:
            with self.opener.open(self.base_url + path, data=data, timeout=10) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode()

    def csrf_token(self, path):
        status, body = self.request(path)
        assert status == 200, (path, status)
        return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', body).group(1)

    def log_in(self, identity):
        token = self.csrf_token("/login")
        status, body = self.request("/login", {"identity": identity, "password": PASSWORD,
                                               "csrf_token": token})
        assert status == 302, body[:1000]
        return self


@pytest.fixture
def two_servers(app, database_url, tmp_path):
    """Two `python run.py` processes on this test's database, sharing the test app's secrets
    (the demo passwords were hashed with its salt)."""
    env = server_env(database_url, SECRET_KEY=app.config["SECRET_KEY"],
                     SECURITY_PASSWORD_SALT=app.config["SECURITY_PASSWORD_SALT"])
    servers = start_servers(env, tmp_path, count=2)
    yield servers
    for server in servers:
        server.stop()


def role_form(role, permission_ids, token):
    return {"name": role.name, "title": role.title, "title_en": role.title_en or "",
            "data_scope": role.data_scope, "description": role.description or "",
            "permissions": [str(i) for i in permission_ids], "csrf_token": token}


def test_a_role_changed_through_one_process_applies_on_the_next_request_to_another(
        app, two_servers):
    process_a, process_b = two_servers
    dispatcher_b = Visitor(process_b.url).log_in("dispatcher")
    admin_a = Visitor(process_a.url).log_in("admin")
    status, menu_before = dispatcher_b.request("/admin/")
    assert status == 200 and 'href="/admin/audit/"' not in menu_before
    assert dispatcher_b.request("/admin/audit/")[0] == 403  # B now caches the old grants

    role = Role.get(Role.name == "dispatcher")
    held = [link.permission_id for link in role.permission_links]
    audit_read = Permission.get(Permission.code == "monitor.audit.read")
    edit_path = f"/admin/roles/edit/?id={role.id}"
    status, body = admin_a.request(edit_path, role_form(
        role, held + [audit_read.id], admin_a.csrf_token(edit_path)))
    assert status == 302, body[:2000]

    status, audit_page = dispatcher_b.request("/admin/audit/")
    assert status == 200
    assert 'href="/admin/audit/"' in audit_page

    with app.app_context():  # and back, from a third process: the test's own
        rbac.set_role_permissions(Role.get_by_id(role.id), held)
    assert dispatcher_b.request("/admin/audit/")[0] == 403
    assert 'href="/admin/audit/"' not in dispatcher_b.request("/admin/")[1]


def test_both_processes_report_the_same_current_schema_version(two_servers):
    versions = []
    for server in two_servers:
        with urllib.request.urlopen(f"{server.url}/healthz", timeout=5) as response:
            versions.append(json.loads(response.read())["schema_version"])
    assert versions == [migrations.LATEST, migrations.LATEST]
