"""Staff accounts: login throttling and lockout, the image captcha, SMS password recovery.
Plain functions; the login form and the views call them."""
import datetime as dt
import hashlib
import hmac
import io
import random
import secrets
import string

from flask_babel import lazy_gettext as _l
from peewee import fn

from console import audit, notify
from console.db import db, utcnow
from console.models_system import LoginEvent, PasswordResetCode, User

CAPTCHA_ALPHABET = "".join(c for c in string.ascii_uppercase + string.digits if c not in "0O1IL5S")
RESET_MAX_ATTEMPTS = 5


class AccountError(ValueError):
    def __init__(self, field, message):
        super().__init__(str(message))
        self.field = field
        self.message = message


# ---- lockout ------------------------------------------------------------------------
def record_login(identity, ip, success, reason, user=None, user_agent=""):
    LoginEvent.create(identity=(identity or "")[:255], ip=ip or "", success=success,
                      reason=reason, user=user.id if user else None,
                      user_agent=(user_agent or "")[:255])


def recent_failures(identity=None, ip=None, minutes=15, now=None):
    since = (now or utcnow()) - dt.timedelta(minutes=minutes)
    query = LoginEvent.select(fn.COUNT(LoginEvent.id)).where(
        LoginEvent.at >= since, LoginEvent.success == False,  # noqa: E712
        LoginEvent.reason != "captcha")
    if identity is not None:
        query = query.where(fn.LOWER(LoginEvent.identity) == identity.strip().lower())
    if ip is not None:
        query = query.where(LoginEvent.ip == ip)
    return query.scalar()


def lock_if_needed(user, max_failures, lock_minutes, window_minutes):
    """After `max_failures` failed passwords inside the window, lock for `lock_minutes`."""
    since = utcnow() - dt.timedelta(minutes=window_minutes)
    last_success = (LoginEvent.select(fn.MAX(LoginEvent.at))
                    .where(LoginEvent.user == user.id, LoginEvent.success == True).scalar())  # noqa: E712,E501
    since = max(since, last_success) if last_success else since
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
    with db.atomic():
        User.update(locked_until=None).where(User.id == user.id).execute()
        audit.record("unlock", user, {"locked_until": str(user.locked_until)},
                     {"locked_until": None})


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


def send_reset_code(phone, secret_key, locale, minutes=10):
    """Queue an SMS with a 6-digit code. Unknown phones get the same answer (no enumeration)."""
    user = User.get_or_none((User.phone == (phone or "").strip()) & (User.is_deleted == False))  # noqa: E712,E501
    if user is None or not user.active:
        return None
    recent = (PasswordResetCode.select()
              .where(PasswordResetCode.user == user.id,
                     PasswordResetCode.created_at >= utcnow() - dt.timedelta(seconds=60)))
    if recent.exists():
        raise AccountError("phone", _l("A code was sent less than a minute ago; please wait."))
    code = f"{secrets.randbelow(10**6):06d}"
    body = notify.render_template("password_reset_sms", locale, code=code, minutes=minutes)
    with db.atomic():
        PasswordResetCode.create(user=user.id, code_hash=_code_hash(user.id, code, secret_key),
                                 expires_at=utcnow() + dt.timedelta(minutes=minutes))
        notify.enqueue("sms", user.phone, body)
        audit.record("reset_code_sent", user, note="password reset code sent by SMS")
    notify.deliver_pending()
    return user


def reset_password_with_code(phone, code, new_password, secret_key):
    from flask_security.utils import hash_password

    user = User.get_or_none((User.phone == (phone or "").strip()) & (User.is_deleted == False))  # noqa: E712,E501
    if user is None:
        raise AccountError("code", _l("The code is wrong or has expired."))
    if len(new_password or "") < 8:
        raise AccountError("password", _l("The new password must have at least 8 characters."))
    pending = (PasswordResetCode.select()
               .where(PasswordResetCode.user == user.id, PasswordResetCode.used_at.is_null(),
                      PasswordResetCode.expires_at > utcnow())
               .order_by(PasswordResetCode.id.desc()).first())
    if pending is None or pending.attempts >= RESET_MAX_ATTEMPTS:
        raise AccountError("code", _l("The code is wrong or has expired."))
    if not hmac.compare_digest(pending.code_hash,
                               _code_hash(user.id, (code or "").strip(), secret_key)):
        PasswordResetCode.update(attempts=PasswordResetCode.attempts + 1).where(
            PasswordResetCode.id == pending.id).execute()
        raise AccountError("code", _l("The code is wrong or has expired."))
    with db.atomic():
        used = PasswordResetCode.update(used_at=utcnow()).where(
            PasswordResetCode.id == pending.id, PasswordResetCode.used_at.is_null()).execute()
        if not used:
            raise AccountError("code", _l("The code is wrong or has expired."))
        User.update(password=hash_password(new_password), locked_until=None).where(
            User.id == user.id).execute()
        audit.record("password_reset", user, note="password reset with SMS code")
    return user
