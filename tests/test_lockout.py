"""Login throttling that neither tells strangers which accounts exist nor lets them lock an
owner out: failures count per identity per address (five lock that identity at that address
only), per address (all identities), and per identity over all addresses (the web login then
demands the captcha, app logins from unfamiliar addresses slow down). An unknown identity goes
through exactly the same steps as a known one."""
import re

import pytest
from peewee import fn
from testkit import PASSWORD, csrf_token

from console.models import LoginEvent, User
from console.system import accounts, params

WRONG = "Wrong@2026"
KNOWN, UNKNOWN = "dispatcher", "nobody-here"
CONFIG = {"CONSOLE_LOCALE": "en"}  # captcha off (the tests' default), messages as msgids
MESSAGE = re.compile(r'class="(?:invalid-feedback d-block|alert alert-danger)">([^<]*)<')


@pytest.fixture
def app_config():
    return CONFIG


@pytest.fixture(autouse=True)
def first_event(app):
    return (LoginEvent.select(fn.MAX(LoginEvent.id)).scalar() or 0) + 1


def web_login(app, identity, password, ip, client=None, **extra):
    """A login through the form, from `ip`, in a browser of its own unless `client` is given:
    (status, messages, client)."""
    client = client or app.test_client()
    response = client.post("/login", data={
        "identity": identity, "password": password, "csrf_token": csrf_token(client), **extra},
        environ_base={"REMOTE_ADDR": ip})
    return response.status_code, MESSAGE.findall(response.get_data(as_text=True)), client


def app_login(app, identity, password, ip):
    """The apps' JSON login: (status, errors)."""
    response = app.test_client().post("/login?include_auth_token", json={
        "identity": identity, "password": password}, environ_base={"REMOTE_ADDR": ip})
    return response.status_code, response.json["response"].get("errors", [])


def reasons(first_event, ip=None):
    query = LoginEvent.select().where(LoginEvent.id >= first_event).order_by(LoginEvent.id)
    if ip:
        query = query.where(LoginEvent.ip == ip)
    return [event.reason for event in query]


def test_a_stranger_locks_the_account_only_at_his_own_address(app, first_event):
    for _ in range(5):
        status, messages, _client = web_login(app, KNOWN, WRONG, "10.9.0.66")
    assert status == 200 and "this account is locked" in messages[0]
    status, messages, _client = web_login(app, KNOWN, PASSWORD, "10.9.0.66")
    assert status == 200 and "this account is locked" in messages[0]  # right password, too
    # the owner, from a clean address, gets in — through the form and through the app
    status, messages, client = web_login(app, KNOWN, PASSWORD, "10.9.0.7")
    assert (status, messages) == (302, [])
    assert client.get("/admin/").status_code == 200
    assert app_login(app, KNOWN, PASSWORD, "10.9.0.8")[0] == 200
    assert reasons(first_event) == ["bad_password"] * 5 + ["locked", "ok", "ok"]


def test_the_owner_gets_in_from_a_clean_address_while_his_account_is_guessed_at_everywhere(
        app, first_event, monkeypatch):
    """Ten failures from ten addresses: no lock anywhere; the web login demands the captcha
    (even with the captcha switched off) and the owner, solving it, gets in."""
    monkeypatch.setattr(accounts, "new_captcha_text", lambda length=4: "K7PX")
    for n in range(10):
        assert web_login(app, KNOWN, WRONG, f"10.8.0.{n}")[0] == 200
    status, messages, client = web_login(app, KNOWN, PASSWORD, "10.8.1.1")
    assert status == 200 and messages == ["The captcha is wrong; a new one is shown."]
    assert client.get("/login/captcha.png").status_code == 200
    status, messages, _client = web_login(app, KNOWN, PASSWORD, "10.8.1.1", captcha="k7px",
                                          client=client)
    assert (status, messages) == (302, [])
    assert client.get("/admin/").status_code == 200
    assert reasons(first_event, "10.8.1.1") == ["captcha", "ok"]


@pytest.mark.parametrize("login", ["web", "app"])
def test_an_unknown_identity_answers_exactly_like_a_known_one(app, login):
    """Same statuses, same messages, same lock, step by step: nothing tells them apart."""
    def attempt(identity, password, ip):
        if login == "web":
            status, messages, _client = web_login(app, identity, password, ip)
            return status, messages
        return app_login(app, identity, password, ip)

    answers = {}
    for identity, ip in ((KNOWN, "10.7.0.1"), (UNKNOWN, "10.7.0.2")):
        answers[identity] = [attempt(identity, WRONG, ip) for _ in range(7)]
        answers[identity].append(attempt(identity, PASSWORD, ip))
    assert answers[KNOWN] == answers[UNKNOWN]
    statuses = {status for status, _messages in answers[KNOWN]}
    assert statuses == ({200} if login == "web" else {400})
    assert "this account is locked" in str(answers[UNKNOWN][4])  # the fifth locks, both


def test_an_unknown_identity_is_locked_and_counted_like_a_known_one(app, first_event):
    for identity, ip in ((KNOWN, "10.6.0.1"), (UNKNOWN.upper(), "10.6.0.2"),
                         (UNKNOWN, "10.6.0.2")):
        for _ in range(3 if identity != KNOWN else 6):
            web_login(app, identity, WRONG, ip)
    assert reasons(first_event, "10.6.0.1") == ["bad_password"] * 5 + ["locked"]
    # names are compared without case, as for accounts: NOBODY and nobody are one identity
    assert reasons(first_event, "10.6.0.2") == ["no_user"] * 5 + ["locked"]


def test_the_names_of_one_account_are_counted_each_on_its_own_like_unknown_names(app):
    """Else three wrong passwords for an email and two for a mobile locking together would
    tell a stranger that both belong to one account."""
    for identity, ip in (("dispatcher@demo.local", "10.6.1.1"), ("13800000003", "10.6.1.1"),
                         ("ghost@demo.local", "10.6.1.2"), ("13900000000", "10.6.1.2")):
        for _ in range(3 if "@" in identity else 2):
            status, messages, _client = web_login(app, identity, WRONG, ip)
            assert messages == ["The account or the password is wrong."], identity


def test_the_identity_wide_count_treats_an_unknown_identity_the_same(app):
    """Ten failures of an unknown name over many addresses demand the captcha, as for a
    known account; app logins from a new address must wait, alike."""
    for identity in (KNOWN, UNKNOWN):
        for n in range(10):
            web_login(app, identity, WRONG, f"10.5.{len(identity)}.{n}")
    web = [web_login(app, identity, WRONG, "10.5.9.9")[:2] for identity in (KNOWN, UNKNOWN)]
    assert web[0] == web[1] == (200, ["The captcha is wrong; a new one is shown."])
    apps = [app_login(app, identity, WRONG, "10.5.9.8") for identity in (KNOWN, UNKNOWN)]
    assert apps[0] == apps[1]
    assert apps[0][0] == 400 and "seconds and try again" in str(apps[0][1])


def test_app_logins_of_an_identity_under_attack_are_slowed_but_not_from_a_familiar_address(
        app, first_event):
    assert app_login(app, KNOWN, PASSWORD, "10.4.0.1")[0] == 200  # the owner's usual address
    for n in range(10):
        app_login(app, KNOWN, WRONG, f"10.4.1.{n}")
    status, errors = app_login(app, KNOWN, PASSWORD, "10.4.2.1")  # a new address must wait
    assert status == 400 and "seconds and try again" in str(errors)
    assert reasons(first_event)[-1] == "slowed"
    assert app_login(app, KNOWN, PASSWORD, "10.4.0.1")[0] == 200  # the familiar one need not


def test_without_a_slow_down_an_identity_under_attack_still_logs_in_by_app(app):
    params.set_value("security.login_slow_seconds", 0, None)
    for n in range(10):
        app_login(app, KNOWN, WRONG, f"10.3.1.{n}")
    assert app_login(app, KNOWN, PASSWORD, "10.3.2.1")[0] == 200


def test_an_administrator_unlock_lifts_the_lock_at_every_address(app, first_event):
    for ip in ("10.2.0.1", "10.2.0.2"):
        for _ in range(5):
            web_login(app, KNOWN, WRONG, ip)
    account = User.get(User.username == KNOWN)
    assert account.locked_until is not None  # shown on the Users page
    with app.test_request_context():
        accounts.unlock(account)
    for ip in ("10.2.0.1", "10.2.0.2"):
        assert web_login(app, KNOWN, PASSWORD, ip)[0] == 302
