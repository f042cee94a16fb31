"""Staff accounts: login throttling and lockout, the image captcha, SMS password recovery.
Plain functions; the login form and the views call them."""
import datetime as dt
import hashlib
import hmac
import io
import random
import secrets
import string
import uuid

from flask_babel import lazy_gettext as _l
from peewee import fn

from console.common.validators import validate_mobile
from console.db import db, utcnow
from console.errors import InputError
from console.models import LoginEvent, PasswordResetCode, User
from console.system import audit, notify

CAPTCHA_ALPHABET = "".join(c for c in string.ascii_uppercase + string.digits if c not in "0O1IL5S")
RESET_MAX_ATTEMPTS = 5
RESET_RESEND_SECONDS = 60
RESET_MAX_PER_IP_HOUR = 10
# Login events that count towards throttling an address (not captcha typos, not SMS requests).
THROTTLED_REASONS = ("bad_password", "no_user", "locked", "refused", "ip_throttled")


class AccountError(InputError):
    """A refused login, recovery or account change; `field` names the form field."""


# ---- lockout ------------------------------------------------------------------------
def record_login(identity, ip, success, reason, user=None, user_agent=""):
    LoginEvent.create(identity=(identity or "")[:255], ip=ip or "", success=success,
                      reason=reason, user=user.id if user else None,
                      user_agent=(user_agent or "")[:255])


def recent_failures(identity=None, ip=None, minutes=15, now=None):
    since = (now or utcnow()) - dt.timedelta(minutes=minutes)
    query = LoginEvent.select(fn.COUNT(LoginEvent.id)).where(
        LoginEvent.at >= since, LoginEvent.reason.in_(THROTTLED_REASONS))
    if identity is not None:
        query = query.where(fn.LOWER(LoginEvent.identity) == identity.strip().lower())
    if ip is not None:
        query = query.where(LoginEvent.ip == ip)
    return query.scalar()


def lock_if_needed(user, max_failures, lock_minutes, window_minutes):
    """After `max_failures` failed passwords inside the window, lock for `lock_minutes`.
    Failures before the last success or before the end of the last lock do not count, so an
    expired or lifted lock gives the full number of tries again."""
    since = utcnow() - dt.timedelta(minutes=window_minutes)
    last_success = (LoginEvent.select(fn.MAX(LoginEvent.at))
                    .where(LoginEvent.user == user.id, LoginEvent.success == True).scalar())  # noqa: E712,E501
    locked_until = User.select(User.locked_until).where(User.id == user.id).scalar()
    since = max([t for t in (since, last_success, locked_until) if t is not None])
    failures = (LoginEvent.select(fn.COUNT(LoginEvent.id))
                .where(LoginEvent.user == user.id, LoginEvent.success == False,  # noqa: E712
                       LoginEvent.reason == "bad_password", LoginEvent.at >= since).scalar())
    if failures >= max_failures:
        until = utcnow() + dt.timedelta(minutes=lock_minutes)
        User.update(locked_until=until).where(User.id == user.id).execute()
        audit.record("lock", user, None, {"locked_until": until.isoformat()},
                     note=f"{failures} failed logins")
        return until
    return None


def lock_minutes_left(user, now=None):
    now = now or utcnow()
    if user.locked_until and user.locked_until > now:
        return max(1, int((user.locked_until - now).total_seconds() // 60) + 1)
    return 0


def is_locked_out(user, form_error=None):
    minutes = lock_minutes_left(user)
    if minutes and form_error is not None:
        form_error.append(locked_message(minutes))
    return bool(minutes)


def locked_message(minutes):
    return _l("Too many failed attempts: this account is locked. Try again in "
              "%(minutes)s minutes or reset the password by SMS.", minutes=minutes)


def unlock(user):
    """Lift a lock now. `locked_until` keeps the moment the lock ended, which is where
    failures start counting again."""
    now = utcnow()
    with db.atomic():
        User.update(locked_until=now).where(User.id == user.id).execute()
        audit.record("unlock", user, {"locked_until": str(user.locked_until)},
                     {"locked_until": now.isoformat()})


# ---- captcha -------------------------------------------------------------------------
def new_captcha_text(length=4):
    return "".join(secrets.choice(CAPTCHA_ALPHABET) for _ in range(length))


def captcha_digest(text, secret_key):
    return hmac.new(secret_key.encode(), text.strip().upper().encode(), hashlib.sha256
                    ).hexdigest()


def captcha_png(text):
    """Draw the captcha: letters at random offsets and angles over noise lines."""
    from PIL import Image, ImageDraw, ImageFilter, ImageFont

    width, height = 132, 44
    image = Image.new("RGB", (width, height), (246, 248, 250))
    draw = ImageDraw.Draw(image)
    rng = random.Random(secrets.randbits(64))
    for _ in range(6):
        draw.line([(rng.randint(0, width), rng.randint(0, height)) for _ in range(2)],
                  fill=(rng.randint(120, 200),) * 3, width=1)
    font = ImageFont.load_default(size=28)
    for i, char in enumerate(text):
        glyph = Image.new("RGBA", (34, 40), (0, 0, 0, 0))
        ImageDraw.Draw(glyph).text((4, 2), char, font=font,
                                   fill=(rng.randint(20, 90), rng.randint(40, 110), 160))
        glyph = glyph.rotate(rng.randint(-25, 25), expand=False)
        image.paste(glyph, (6 + i * 30 + rng.randint(-3, 3), rng.randint(-2, 4)), glyph)
    image = image.filter(ImageFilter.SMOOTH)
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


# ---- SMS password recovery -------------------------------------------------------------
def _code_hash(user_id, code, secret_key):
    return hmac.new(secret_key.encode(), f"{user_id}:{code}".encode(), hashlib.sha256
                    ).hexdigest()


def _active_user_by_phone(phone):
    return User.get_or_none((User.phone == phone) & (User.is_deleted == False)  # noqa: E712
                            & (User.active == True))  # noqa: E712


def send_reset_code(phone, secret_key, locale, minutes=10, ip=""):
    """Queue an SMS with a 6-digit code. Known and unknown numbers get the same answers and
    the same limits (one request a minute per number, a few an hour per address), so the
    page tells nobody which numbers have accounts."""
    try:
        phone = validate_mobile(phone, "phone")
    except InputError:
        raise AccountError("phone", _l("Enter the 11-digit mainland mobile number of the "
                                       "account.")) from None
    now = utcnow()
    requests = LoginEvent.select().where(LoginEvent.reason == "reset_code")
    if requests.where(LoginEvent.identity == phone,
                      LoginEvent.at >= now - dt.timedelta(seconds=RESET_RESEND_SECONDS)).exists():
        raise AccountError("phone", _l("A code was sent less than a minute ago; please wait "
                                       "a minute before asking for another one."))
    if ip and requests.where(LoginEvent.ip == ip, LoginEvent.at >= now - dt.timedelta(hours=1)
                             ).count() >= RESET_MAX_PER_IP_HOUR:
        raise AccountError("phone", _l("Too many codes were requested from this address; "
                                       "please try again in an hour."))
    user = _active_user_by_phone(phone)
    record_login(phone, ip, False, "reset_code", user)
    if user is None:
        return None
    code = f"{secrets.randbelow(10**6):06d}"
    body = notify.render_template("password_reset_sms", locale, code=code, minutes=minutes)
    with db.atomic():
        PasswordResetCode.create(user=user.id, code_hash=_code_hash(user.id, code, secret_key),
                                 expires_at=now + dt.timedelta(minutes=minutes))
        notify.enqueue("sms", user.phone, body)
        audit.record("reset_code_sent", user, note="password reset code sent by SMS")
    notify.deliver_pending()
    return user


def _wrong_code():
    return AccountError("code", _l("The code is wrong or has expired. After %(count)s wrong "
                                   "tries, ask for a new code.", count=RESET_MAX_ATTEMPTS))


def reset_password_with_code(phone, code, new_password, secret_key):
    """Check the latest unused code (at most RESET_MAX_ATTEMPTS tries, each claimed with a
    conditional update so parallel guesses cannot exceed it) and set the new password. The
    account's sessions and tokens end: `fs_uniquifier` changes."""
    from flask_security.utils import hash_password

    if len(new_password or "") < 8:
        raise AccountError("password", _l("The new password must have at least 8 characters."))
    user = _active_user_by_phone((phone or "").strip())
    if user is None:
        raise _wrong_code()
    now = utcnow()
    pending = (PasswordResetCode.select()
               .where(PasswordResetCode.user == user.id, PasswordResetCode.used_at.is_null(),
                      PasswordResetCode.expires_at > now)
               .order_by(PasswordResetCode.id.desc()).first())
    claimed = pending is not None and PasswordResetCode.update(
        attempts=PasswordResetCode.attempts + 1).where(
        PasswordResetCode.id == pending.id,
        PasswordResetCode.attempts < RESET_MAX_ATTEMPTS).execute()
    if not claimed or not hmac.compare_digest(
            pending.code_hash, _code_hash(user.id, (code or "").strip(), secret_key)):
        raise _wrong_code()
    with db.atomic():
        used = PasswordResetCode.update(used_at=now).where(
            PasswordResetCode.id == pending.id, PasswordResetCode.used_at.is_null()).execute()
        if not used:
            raise _wrong_code()
        locked = user.locked_until is not None and user.locked_until > now
        User.update(password=hash_password(new_password), fs_uniquifier=uuid.uuid4().hex,
                    locked_until=now if locked else user.locked_until).where(
            User.id == user.id).execute()
        audit.record("password_reset", user, note="password reset with SMS code")
    return user
