"""App API tokens: they expire (CONSOLE_TOKEN_HOURS; the app logs in again), end at logout —
through the API or on the web — and with a password change, open the JSON API only (never a
console page), and an app request gets no cookie."""
import time

import itsdangerous.timed
import pytest
from api_client import login_token
from testkit import PASSWORD, csrf_token, login

from console.models import User
from console.system import params, users

SUPPLIER = "supplier@demo.local"


def me(client, token):
    return client.get("/api/v1/me", headers={"Authentication-Token": token})


def later(monkeypatch, seconds):
    """From now on, itsdangerous (which signs the tokens) believes it is `seconds` later."""
    now = int(time.time()) + seconds
    monkeypatch.setattr(itsdangerous.timed.TimestampSigner, "get_timestamp", lambda self: now)


def supplier():
    return User.get(User.email == SUPPLIER)


def test_a_token_expires_after_the_configured_hours_and_the_app_logs_in_again(
        app, client, monkeypatch):
    token = login_token(app, SUPPLIER)
    later(monkeypatch, 12 * 3600 - 60)
    assert me(client, token).status_code == 200
    later(monkeypatch, 12 * 3600 + 60)
    expired = me(client, token)
    assert expired.status_code == 401
    assert expired.json["error"]["code"] == "unauthenticated"
    assert me(client, login_token(app, SUPPLIER)).status_code == 200  # a fresh login works


def test_the_token_lifetime_is_a_platform_parameter(app, client, monkeypatch):
    params.set_value("security.token_hours", 1, None)
    token = login_token(app, SUPPLIER)
    later(monkeypatch, 3600 + 60)
    assert me(client, token).status_code == 401
    assert app.config["SECURITY_TOKEN_MAX_AGE"].total_seconds() == 3600


def test_logout_through_the_api_ends_this_and_every_other_token_of_the_account(app, client):
    phone, tablet = login_token(app, SUPPLIER), login_token(app, SUPPLIER)
    other = login_token(app, "customer@demo.local")
    response = client.post("/api/v1/logout", headers={"Authentication-Token": phone})
    assert response.status_code == 200 and response.json == {"logged_out": True}
    assert me(client, phone).status_code == 401
    assert me(client, tablet).status_code == 401
    assert me(client, other).status_code == 200  # another account's token lives on
    again = client.post("/api/v1/logout", headers={"Authentication-Token": phone})
    assert again.status_code == 200 and again.json == {"logged_out": False}


def test_logging_out_on_the_web_ends_the_accounts_tokens(app, client):
    token = login_token(app, SUPPLIER)
    assert login(client, SUPPLIER).status_code == 302
    response = client.post("/logout", data={"csrf_token": csrf_token(client, "/admin/")})
    assert response.status_code == 302
    assert me(client, token).status_code == 401


def test_a_password_change_ends_the_accounts_tokens(app, client):
    token = login_token(app, SUPPLIER)
    with app.test_request_context():
        account = users.set_password(supplier(), "Changed#Pass2026")
        account.save()
    assert me(client, token).status_code == 401
    assert me(client, login_token(app, SUPPLIER, "Changed#Pass2026")).status_code == 200


def test_a_password_changed_on_the_users_page_ends_the_accounts_tokens(app, client, login_as):
    token = login_token(app, SUPPLIER)
    login_as("admin")
    path = f"/admin/users/edit/?id={supplier().id}"
    page = client.get(path).get_data(as_text=True)
    assert 'name="new_password"' in page
    form = _form_values(page)
    form.update({"new_password": "Changed#Pass2026", "csrf_token": csrf_token(client, path)})
    response = client.post(path, data=form)
    assert response.status_code == 302, response.get_data(as_text=True)[-1500:]
    assert me(client, token).status_code == 401


def _form_values(page):
    """The edit form as the browser would send it back: text inputs, checked boxes and
    selected options."""
    import re
    values = {}
    for tag in re.findall(r"<input[^>]*>", page):
        name = re.search(r'name="([^"]+)"', tag)
        if not name or 'type="submit"' in tag:
            continue
        if 'type="checkbox"' in tag and "checked" not in tag:
            continue
        value = re.search(r'value="([^"]*)"', tag)
        values.setdefault(name.group(1), []).append(value.group(1) if value else "y")
    for name, body in re.findall(r'<select[^>]*name="([^"]+)"[^>]*>(.*?)</select>', page,
                                 re.S):
        values[name] = re.findall(r'<option[^>]*selected[^>]*value="([^"]*)"', body) or \
            re.findall(r'<option[^>]*value="([^"]*)"[^>]*selected', body)
    return {name: found if len(found) > 1 else (found[0] if found else "")
            for name, found in values.items()}


@pytest.mark.parametrize("path", ["/admin/", "/admin/orders/", "/admin/users/"])
def test_a_token_does_not_open_console_pages(app, client, path):
    token = login_token(app, "admin@demo.local")
    for sent in ({"headers": {"Authentication-Token": token}},
                 {"query_string": {"auth_token": token}}):
        response = client.get(path, **sent)
        assert response.status_code == 302, (path, sent)
        assert "/login" in response.headers["Location"]


def test_an_api_request_with_a_token_gets_no_cookie(app, client):
    token = login_token(app, SUPPLIER)
    response = me(client, token)
    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers


def test_a_browser_session_still_does_not_open_the_api(client):
    assert login(client, SUPPLIER, PASSWORD).status_code == 302
    assert client.get("/api/v1/me").status_code == 401
