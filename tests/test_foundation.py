"""The skeleton: health, schema versioning, login, menus and a typed forbidden URL."""
from console import migrations
from console.models import MenuItem, Role, SchemaVersion


def test_healthz_reports_the_schema_version(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json["schema_version"] == migrations.LATEST


def test_init_db_twice_changes_nothing(app):
    before = (SchemaVersion.select().count(), Role.select().count(), MenuItem.select().count())
    result = app.test_cli_runner().invoke(args=["init-db"])
    assert result.exit_code == 0, result.output
    after = (SchemaVersion.select().count(), Role.select().count(), MenuItem.select().count())
    assert before == after


def test_outdated_schema_is_refused_with_the_command_to_run(client):
    SchemaVersion.delete().where(SchemaVersion.version == migrations.LATEST).execute()
    response = client.get("/admin/")
    assert response.status_code == 503
    assert "flask --app run init-db" in response.json["error"]["message"]
    assert client.get("/healthz").status_code == 503


def test_anonymous_visitor_is_sent_to_login(client):
    response = client.get("/admin/users/")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_admin_logs_in_by_account_name_and_sees_the_system_menu(client, login_as):
    login_as("admin")
    page = client.get("/admin/").get_data(as_text=True)
    assert 'href="/admin/users/"' in page
    assert 'href="/admin/roles/"' in page


def test_dispatcher_typing_the_users_url_gets_a_friendly_403(client, login_as):
    login_as("dispatcher")
    page = client.get("/admin/").get_data(as_text=True)
    assert 'href="/admin/users/"' not in page
    response = client.get("/admin/users/")
    assert response.status_code == 403
    assert "error-title" in response.get_data(as_text=True)
