"""Security headers on every page (CSP with a per-request nonce, frame options, nosniff,
referrer policy, HSTS over HTTPS only), no caching of pages with personal data, and cookies:
SameSite=Lax and HttpOnly always, Secure whenever the request came over HTTPS (also behind a
trusted reverse proxy)."""
import base64
import hashlib
import html
import re

import pytest
from testkit import PASSWORD, csrf_token

from console.models import LoginEvent, Order

HANDLER = re.compile(r'\son[a-z]+="([^"]*)"|\shref="(javascript:[^"]*)"')
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)([^>]*)>")


def csp(response):
    policy = response.headers["Content-Security-Policy"]
    return {part.split()[0]: part.split()[1:] for part in policy.split("; ")}


def console_pages():
    order = Order.select(Order.id).order_by(Order.id).first()
    pages = ["/admin/", "/admin/users/", "/admin/users/new/", "/admin/roles/",
             "/admin/permissions/", "/admin/orders/"]
    return pages + ([f"/admin/orders/{order.id}/", f"/admin/orders/{order.id}/work-order/"]
                    if order else [])


def test_every_page_carries_the_security_headers(client, login_as):
    pages = ["/login", "/login/recover", "/healthz", "/api/v1/openapi.json", "/api/v1/me",
             "/no/such/page"]
    responses = [client.get(path) for path in pages]
    login_as("admin")
    responses += [client.get(path) for path in console_pages()]
    for path, response in zip(pages + console_pages(), responses, strict=True):
        assert response.headers["X-Frame-Options"] == "SAMEORIGIN", path
        assert response.headers["X-Content-Type-Options"] == "nosniff", path
        assert response.headers["Referrer-Policy"] == "same-origin", path
        policy = csp(response)
        assert policy["frame-ancestors"] == ["'self'"], path
        assert policy["object-src"] == ["'none'"] and policy["base-uri"] == ["'self'"], path
        assert "'unsafe-inline'" not in policy["script-src"], path
        assert "Strict-Transport-Security" not in response.headers, path  # plain HTTP here


def test_each_request_gets_its_own_nonce_and_every_inline_script_carries_it(client, login_as):
    login_as("admin")
    nonces = set()
    for path in ["/admin/users/", "/admin/users/new/", "/admin/orders/"]:
        response = client.get(path)
        [nonce] = [s[len("'nonce-"):-1] for s in csp(response)["script-src"]
                   if s.startswith("'nonce-")]
        nonces.add(nonce)
        page = response.get_data(as_text=True)
        assert f'nonce="{nonce}"' in page  # Flask-Admin's scripts take the request's nonce
        for attributes in INLINE_SCRIPT.findall(page):
            assert f'nonce="{nonce}"' in attributes, (path, attributes)
    assert len(nonces) == 3


@pytest.mark.parametrize("locale", ["zh_Hans_CN", "en"])
def test_every_inline_event_handler_on_the_main_pages_is_allowed_by_its_hash(
        client, login_as, locale):
    """A nonce does not cover onclick="..." nor href="javascript:..."; the CSP lists the hash
    of each handler the console's pages (Flask-Admin's among them) carry, in both languages."""
    login_as("admin")
    client.post("/locale", data={"locale": locale, "csrf_token": csrf_token(client, "/admin/")})
    seen = set()
    for path in console_pages() + ["/admin/roles/new/", "/admin/organizations/"]:
        response = client.get(path)
        assert response.status_code == 200, path
        allowed = set(csp(response)["script-src"])
        for handler in HANDLER.findall(response.get_data(as_text=True)):
            text = html.unescape("".join(handler))
            digest = base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()
            assert f"'sha256-{digest}'" in allowed, (path, text)
            seen.add(text)
    assert any("modelActions.execute" in text for text in seen)  # the check reached some
    assert "javascript:void(0)" in seen
    login = client.get("/login")
    assert not HANDLER.findall(login.get_data(as_text=True))  # our own pages use none


def test_pages_and_api_answers_are_never_stored_but_static_files_may_be(client, login_as):
    response = client.get("/login")
    assert response.headers["Cache-Control"] == "no-store"  # was "private=True, no-store=True"
    login_as("dispatcher")
    for path in ["/admin/", "/admin/orders/", "/api/v1/me", "/login/captcha.png"]:
        assert client.get(path).headers["Cache-Control"] == "no-store", path
    static = client.get("/static/console.css")
    assert static.status_code == 200 and "no-store" not in static.headers.get(
        "Cache-Control", "")


def set_cookies(response):
    return {cookie.split("=", 1)[0]: cookie for cookie in response.headers.getlist("Set-Cookie")}


def attributes(cookie):
    return {part.strip().split("=")[0].lower() for part in cookie.split(";")[1:]}


def test_cookies_are_samesite_lax_and_httponly_and_not_secure_over_plain_http(client):
    response = client.post("/login", data={"identity": "dispatcher", "password": PASSWORD,
                                           "remember": "y", "csrf_token": csrf_token(client)})
    assert response.status_code == 302
    cookies = set_cookies(response)
    assert {"session", "remember_token"} <= cookies.keys()
    for name in ("session", "remember_token"):
        assert "samesite=lax" in cookies[name].lower(), cookies[name]
        assert "httponly" in attributes(cookies[name])
        assert "secure" not in attributes(cookies[name])  # a plain-HTTP start still works


def test_over_https_cookies_are_secure_and_hsts_is_sent(client):
    response = client.get("/login", base_url="https://localhost")
    max_age = re.fullmatch(r"max-age=(\d+)", response.headers["Strict-Transport-Security"])
    assert int(max_age.group(1)) >= 365 * 24 * 3600
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"',
                      response.get_data(as_text=True)).group(1)
    response = client.post("/login", base_url="https://localhost", data={
        "identity": "dispatcher", "password": PASSWORD, "remember": "y", "csrf_token": token},
        headers={"Referer": "https://localhost/login"})  # CSRF over HTTPS checks it
    assert response.status_code == 302
    cookies = set_cookies(response)
    for name in ("session", "remember_token"):
        assert "secure" in attributes(cookies[name]), cookies[name]
        assert "samesite=lax" in cookies[name].lower()


@pytest.mark.parametrize("app_config", [{"CONSOLE_TRUSTED_PROXIES": 1}])
def test_behind_a_trusted_proxy_its_https_and_client_address_are_believed(client):
    proxied = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"}
    response = client.get("/login", headers=proxied)
    assert "Strict-Transport-Security" in response.headers
    assert "secure" in attributes(set_cookies(response)["session"])
    client.post("/login", json={"identity": "nobody", "password": "x"}, headers=proxied)
    event = LoginEvent.select().order_by(LoginEvent.id.desc()).get()
    assert event.ip == "203.0.113.9"  # the client's address, not the proxy's


def test_without_a_trusted_proxy_forwarded_headers_are_ignored(client):
    client.post("/login", json={"identity": "nobody", "password": "x"},
                headers={"X-Forwarded-For": "203.0.113.9"},
                environ_base={"REMOTE_ADDR": "10.0.0.7"})
    assert LoginEvent.select().order_by(LoginEvent.id.desc()).get().ip == "10.0.0.7"
    response = client.get("/login", headers={"X-Forwarded-Proto": "https"})
    assert "secure" not in attributes(set_cookies(response)["session"])
