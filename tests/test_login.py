"""Staff login with the image captcha on: identities, captcha, lockout, address throttling,
the login history, JSON login for the apps, logout, and password recovery by SMS."""
import datetime as dt
import io
import re

import pytest
from peewee import fn
from testkit import PASSWORD, csrf_token

from console.db import utcnow
from console.models import (
    LoginEvent,
    MessageTemplate,
    Outbox,
    PasswordResetCode,
    SandboxSms,
    User,
)
from console.system import accounts, params

CAPTCHA = "K7PX"
WRONG = "Wrong@2026"
NEW_PASSWORD = "Fresh#Pass2026"
DISPATCHER_PHONE = "13800000003"


CONFIG = {"CONSOLE_LOGIN_CAPTCHA": True, "CONSOLE_LOCALE": "en"}  # messages read as msgids


@pytest.fixture
def app_config():
    return CONFIG


@pytest.fixture(autouse=True)
def known_captcha(monkeypatch):
    """Every captcha image of these tests shows CAPTCHA."""
    monkeypatch.setattr(accounts, "new_captcha_text", lambda length=4: CAPTCHA)


@pytest.fixture(autouse=True)
def history_so_far(app):
    """Login events and reset codes from the demo data are not this test's."""
    global FIRST_EVENT, FIRST_CODE
    FIRST_EVENT = (LoginEvent.select(fn.MAX(LoginEvent.id)).scalar() or 0) + 1
    FIRST_CODE = (PasswordResetCode.select(fn.MAX(PasswordResetCode.id)).scalar() or 0) + 1


FIRST_EVENT = FIRST_CODE = 0


def web_login(client, identity, password=PASSWORD, captcha=CAPTCHA, ip="127.0.0.1",
              fetch_image=True):
    token = csrf_token(client)
    if fetch_image:
        assert client.get("/login/captcha.png").status_code == 200
    return client.post("/login", data={"identity": identity, "password": password,
                                       "captcha": captcha, "csrf_token": token},
                       environ_base={"REMOTE_ADDR": ip})


def page_text(response):
    return response.get_data(as_text=True)


def events():
    return list(LoginEvent.select().where(LoginEvent.id >= FIRST_EVENT).order_by(LoginEvent.id))


def reasons():
    return [e.reason for e in events()]


def age_events(by):
    """This test's login events happened `by` earlier."""
    for event in events():
        LoginEvent.update(at=event.at - by).where(LoginEvent.id == event.id).execute()


def reset_code():
    """The one reset code this test asked for."""
    return PasswordResetCode.get(PasswordResetCode.id >= FIRST_CODE)


def is_signed_in(client):
    return client.get("/admin/").status_code == 200


def dispatcher():
    return User.get(User.email == "dispatcher@demo.local")


def lock_out(client, identity="dispatcher"):
    for _ in range(5):
        response = web_login(client, identity, WRONG)
    return response


# ---- identities and captcha ------------------------------------------------------------
@pytest.mark.parametrize("identity", ["dispatcher@demo.local", "Dispatcher@Demo.Local",
                                      DISPATCHER_PHONE, "dispatcher"])
def test_staff_log_in_with_email_mobile_or_account_name(client, identity):
    response = web_login(client, identity)
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/admin/")
    assert is_signed_in(client)
    event = LoginEvent.select().order_by(LoginEvent.id.desc()).get()
    assert (event.success, event.reason, event.user_id) == (True, "ok", dispatcher().id)


def test_the_captcha_image_is_a_png_that_is_never_cached(client):
    response = client.get("/login/captcha.png")
    assert response.mimetype == "image/png"
    assert response.data.startswith(b"\x89PNG\r\n\x1a\n")
    assert "no-store" in response.headers["Cache-Control"]


def test_the_login_page_shows_the_captcha_when_it_is_on(client):
    page = page_text(client.get("/login"))
    assert 'name="captcha"' in page and "/login/captcha.png" in page


def test_a_wrong_captcha_is_refused_and_each_image_allows_one_guess(client):
    response = web_login(client, "dispatcher", captcha="ZZZZ")
    assert response.status_code == 200
    assert "The captcha is wrong; a new one is shown." in page_text(response)
    # the right text for the same image no longer counts: a new image is needed
    response = web_login(client, "dispatcher", fetch_image=False)
    assert "The captcha is wrong" in page_text(response)
    assert not is_signed_in(client)
    assert web_login(client, "dispatcher", captcha=CAPTCHA.lower()).status_code == 302
    assert reasons() == ["captcha", "captcha", "ok"]


def test_a_wrong_captcha_does_not_count_towards_the_lock(client):
    for _ in range(6):
        web_login(client, "dispatcher", WRONG, captcha="ZZZZ")
    assert dispatcher().locked_until is None
    assert web_login(client, "dispatcher").status_code == 302


def test_the_captcha_uses_no_glyph_that_reads_as_another(monkeypatch):
    from console.system.accounts import CAPTCHA_ALPHABET
    monkeypatch.undo()  # the real drawing of texts, not this module's fixed one
    for confusable in "4AVY0O1I":
        assert confusable not in CAPTCHA_ALPHABET
    assert len(set(CAPTCHA_ALPHABET)) >= 15  # still 15^4 texts and more
    texts = {accounts.new_captcha_text() for _ in range(200)}
    assert all(len(text) == 4 and set(text) <= set(CAPTCHA_ALPHABET) for text in texts)


def test_the_captcha_is_drawn_large_and_shown_large(client):
    from PIL import Image
    image = Image.open(io.BytesIO(client.get("/login/captcha.png").data))
    assert image.size[0] >= 2 * 180 and image.size[1] >= 2 * 60  # sharp at 2x
    tag = re.search(r'<img[^>]*id="captcha-image"[^>]*>', page_text(client.get("/login")))
    assert 'width="180"' in tag.group(0) and 'height="60"' in tag.group(0)


def test_unknown_account_and_wrong_password_get_the_same_message(client):
    unknown = page_text(web_login(client, "nobody@demo.local"))
    wrong = page_text(web_login(client, "dispatcher", WRONG))
    for page in (unknown, wrong):
        assert "The account or the password is wrong." in page
    assert reasons() == ["no_user", "bad_password"]


# ---- lockout ---------------------------------------------------------------------------
def test_five_wrong_passwords_lock_the_account_and_say_for_how_long(client):
    for _ in range(4):
        response = web_login(client, "dispatcher", WRONG)
        assert "The account or the password is wrong." in page_text(response)
    response = lock_out(client)
    assert "this account is locked. Try again in 15 minutes" in page_text(response)
    locked_until = dispatcher().locked_until
    assert dt.timedelta(minutes=14) < locked_until - utcnow() <= dt.timedelta(minutes=15)

    response = web_login(client, "dispatcher")  # the right password, while locked
    assert response.status_code == 200
    assert "this account is locked" in page_text(response)
    assert not is_signed_in(client)
    assert reasons()[-1] == "locked"


def test_an_administrator_unlocks_a_locked_account(client, app):
    lock_out(client)
    admin = app.test_client()
    assert web_login(admin, "admin").status_code == 302
    response = admin.post("/admin/users/action/", data={
        "action": "unlock", "rowid": str(dispatcher().id),
        "csrf_token": csrf_token(admin, "/admin/users/")})
    assert response.status_code == 302
    assert "1 accounts unlocked" in page_text(admin.get("/admin/users/"))

    # one more typo does not lock again: failures before the unlock no longer count
    assert "The account or the password is wrong." in page_text(
        web_login(client, "dispatcher", WRONG))
    assert web_login(client, "dispatcher").status_code == 302


def test_a_lock_ends_by_itself_when_its_time_is_up(client):
    lock_out(client)
    age_events(dt.timedelta(minutes=15, seconds=1))
    assert web_login(client, "dispatcher").status_code == 302


def test_many_failures_from_one_address_throttle_that_address(client, app):
    params.set_value("security.ip_max_failures", 3, None)
    for name in ("a", "b", "c"):
        web_login(client, f"{name}@nowhere.test", ip="10.0.0.9")
    response = web_login(client, "dispatcher", ip="10.0.0.9")
    assert response.status_code == 200
    assert "Too many failed logins from this address" in page_text(response)
    assert reasons()[-1] == "ip_throttled"
    assert web_login(app.test_client(), "dispatcher", ip="10.0.0.10").status_code == 302


def test_every_attempt_is_in_the_login_history_with_its_reason(client):
    web_login(client, "dispatcher", captcha="ZZZZ", ip="10.1.1.1")
    web_login(client, "ghost", ip="10.1.1.1")
    web_login(client, "dispatcher", WRONG, ip="10.1.1.1")
    web_login(client, "dispatcher", ip="10.1.1.1")
    history = events()
    assert [(e.identity, e.reason, e.success) for e in history] == [
        ("dispatcher", "captcha", False), ("ghost", "no_user", False),
        ("dispatcher", "bad_password", False), ("dispatcher", "ok", True)]
    assert {e.ip for e in history} == {"10.1.1.1"}
    assert [e.user_id for e in history[2:]] == [dispatcher().id] * 2


# ---- JSON login for the apps, and logout ------------------------------------------------
def test_json_login_needs_no_captcha_and_returns_an_auth_token_but_no_cookie(client, app):
    response = client.post("/login?include_auth_token",
                           json={"identity": "supplier@demo.local", "password": PASSWORD,
                                 "remember": True})
    assert response.status_code == 200, response.get_data(as_text=True)
    token = response.json["response"]["user"]["authentication_token"]
    assert "Set-Cookie" not in response.headers  # the token is the app's only credential
    app_client = app.test_client()
    assert app_client.get("/api/v1/me", headers={"Authentication-Token": token}
                          ).json["email"] == "supplier@demo.local"
    assert not is_signed_in(client)


@pytest.mark.parametrize("identity", ["butler@demo.local", "13800000009"])
def test_butlers_and_customers_are_refused_at_the_console_with_a_clear_message(
        client, identity):
    response = web_login(client, identity)
    assert response.status_code == 200
    assert ("Butler and customer accounts sign in to the mobile app; the console is for "
            "platform and supplier staff.") in page_text(response)
    assert not is_signed_in(client)
    assert reasons() == ["app_only"]


@pytest.mark.parametrize("identity", ["butler@demo.local", "13800000009"])
def test_butlers_and_customers_still_log_in_to_the_app(client, app, identity):
    response = client.post("/login?include_auth_token",
                           json={"identity": identity, "password": PASSWORD})
    assert response.status_code == 200
    token = response.json["response"]["user"]["authentication_token"]
    me = app.test_client().get("/api/v1/me", headers={"Authentication-Token": token})
    assert me.status_code == 200 and me.json["roles"] in (["butler"], ["customer"])


def test_json_login_failures_count_towards_the_lock(client):
    for _ in range(5):
        response = client.post("/login", json={"identity": "dispatcher", "password": WRONG})
        assert response.status_code == 400
    assert reasons() == ["bad_password"] * 5
    response = client.post("/login", json={"identity": "dispatcher", "password": PASSWORD})
    assert response.status_code == 400
    assert "locked" in str(response.json["response"]["errors"])


def test_a_web_form_login_without_the_csrf_token_is_refused(client):
    client.get("/login/captcha.png")
    response = client.post("/login", data={"identity": "dispatcher", "password": PASSWORD,
                                           "captcha": CAPTCHA})
    assert response.status_code == 400
    assert not is_signed_in(client)


def test_logout_is_a_post_carrying_the_csrf_token(client):
    web_login(client, "dispatcher")
    assert client.get("/logout").status_code == 405
    assert client.post("/logout").status_code == 400
    assert is_signed_in(client)
    token = csrf_token(client, "/admin/")
    response = client.post("/logout", data={"csrf_token": token})
    assert response.status_code == 302
    assert not is_signed_in(client)


# ---- password recovery by SMS -------------------------------------------------------------
def request_code(client, phone=DISPATCHER_PHONE):
    return client.post("/login/recover", data={
        "phone": phone, "csrf_token": csrf_token(client, "/login/recover")})


def sent_code(phone=DISPATCHER_PHONE):
    sms = SandboxSms.select().where(SandboxSms.phone == phone).order_by(SandboxSms.id.desc()
                                                                         ).get()
    return re.search(r"\d{6}", sms.body).group(0)


def reset(client, code, password=NEW_PASSWORD, phone=DISPATCHER_PHONE):
    return client.post("/login/recover/reset", data={
        "phone": phone, "code": code, "password": password,
        "csrf_token": csrf_token(client, f"/login/recover/reset?phone={phone}")})


def test_a_recovery_code_goes_out_by_sms_with_the_template_text(client):
    response = request_code(client)
    assert response.status_code == 302
    assert "/login/recover/reset?phone=" + DISPATCHER_PHONE in response.headers["Location"]
    outbox = Outbox.get(Outbox.recipient == DISPATCHER_PHONE)
    assert (outbox.channel, outbox.status) == ("sms", "sent")
    template = MessageTemplate.get(code="password_reset_sms", locale="en").body
    assert SandboxSms.get(SandboxSms.outbox == outbox.id).body == template.format(
        code=sent_code(), minutes=10)


def test_the_sms_follows_the_language_of_the_page(client):
    client.post("/locale", data={"locale": "zh_Hans_CN", "csrf_token": csrf_token(client)})
    request_code(client)
    body = SandboxSms.get(SandboxSms.phone == DISPATCHER_PHONE).body
    assert body.startswith(f"【车服务平台】您的验证码是{sent_code()}，10分钟内有效")


def test_the_right_code_sets_the_new_password_and_works_once(client, app):
    request_code(client)
    code = sent_code()
    response = reset(client, code)
    assert response.status_code == 302 and response.headers["Location"].endswith("/login")
    assert "The account or the password is wrong." in page_text(
        web_login(app.test_client(), "dispatcher"))
    assert web_login(app.test_client(), "dispatcher", NEW_PASSWORD).status_code == 302

    response = reset(client, code, password="Another#Pass2026")
    assert response.status_code == 422
    assert "The code is wrong or has expired." in page_text(response)
    assert web_login(app.test_client(), "dispatcher", NEW_PASSWORD).status_code == 302


def test_a_password_reset_ends_the_accounts_other_sessions(client, app):
    elsewhere = app.test_client()
    web_login(elsewhere, "dispatcher")
    assert is_signed_in(elsewhere)
    request_code(client)
    reset(client, sent_code())
    assert not is_signed_in(elsewhere)


def test_a_wrong_code_is_refused_and_five_wrong_tries_spend_the_code(client):
    request_code(client)
    code = sent_code()
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(5):
        response = reset(client, wrong)
        assert response.status_code == 422
        assert "The code is wrong or has expired." in page_text(response)
    assert reset_code().attempts == 5
    assert reset(client, code).status_code == 422  # even the right code, now
    assert User.get_by_id(dispatcher().id).password == dispatcher().password


def test_an_expired_code_is_refused(client):
    request_code(client)
    PasswordResetCode.update(expires_at=utcnow() - dt.timedelta(seconds=1)).where(
        PasswordResetCode.id == reset_code().id).execute()
    response = reset(client, sent_code())
    assert response.status_code == 422
    assert "The code is wrong or has expired." in page_text(response)


def test_a_short_new_password_is_refused_without_spending_a_try(client):
    request_code(client)
    response = reset(client, sent_code(), password="short")
    assert "at least 8 characters" in page_text(response)
    assert reset_code().attempts == 0
    assert reset(client, sent_code()).status_code == 302


def test_an_unknown_number_gets_the_same_answer_as_a_known_one(client, app):
    known = request_code(client)
    other = app.test_client()
    unknown = request_code(other, "13999999999")
    assert (known.status_code, known.headers["Location"].replace(DISPATCHER_PHONE, "N")) == (
        unknown.status_code, unknown.headers["Location"].replace("13999999999", "N"))
    known_page = page_text(client.get(known.headers["Location"]))
    unknown_page = page_text(other.get(unknown.headers["Location"]))
    notice = "If this number belongs to an account, a code has been sent to it."
    assert notice in known_page and notice in unknown_page
    assert not Outbox.select().where(Outbox.recipient == "13999999999").exists()
    # and a second request within the minute is refused alike
    for phone, who in ((DISPATCHER_PHONE, client), ("13999999999", other)):
        response = request_code(who, phone)
        assert response.status_code == 422
        assert "A code was sent less than a minute ago" in page_text(response)


def test_a_new_code_can_be_asked_for_after_a_minute(client):
    request_code(client)
    assert request_code(client).status_code == 422
    LoginEvent.update(at=utcnow() - dt.timedelta(seconds=61)).where(
        LoginEvent.id >= FIRST_EVENT).execute()
    assert request_code(client).status_code == 302
    assert SandboxSms.select().where(SandboxSms.phone == DISPATCHER_PHONE).count() == 2


def test_a_malformed_number_is_refused_with_the_reason(client):
    response = request_code(client, "12345")
    assert response.status_code == 422
    assert "Enter the 11-digit mainland mobile number" in page_text(response)
    assert events() == []


# ---- message templates --------------------------------------------------------------------
def edit_template(client, template, body):
    path = f"/admin/templates/edit/?id={template.id}"
    return client.post(path, data={"code": template.code, "locale": template.locale,
                                   "body": body, "csrf_token": csrf_token(client, path)},
                       follow_redirects=True)


def test_a_message_template_with_an_unknown_placeholder_is_refused(client):
    web_login(client, "admin")
    template = MessageTemplate.get(code="password_reset_sms", locale="zh_Hans_CN")
    response = edit_template(client, template, "验证码{code}，请联系{name}")
    assert "unknown placeholder(s) name" in page_text(response)
    assert MessageTemplate.get_by_id(template.id).body == template.body

    response = edit_template(client, template, "验证码{code}，{minutes}分钟内有效")
    assert response.status_code == 200
    assert MessageTemplate.get_by_id(template.id).body == "验证码{code}，{minutes}分钟内有效"
