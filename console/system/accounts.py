"""Staff accounts: login throttling and lockout, the image captcha, SMS password recovery.
Plain functions; the login form and the views call them."""
import datetime as dt
import hashlib
import hmac
import io
import random
import secrets
import uuid
from dataclasses import dataclass

from flask import has_request_context, request
from flask_babel import lazy_gettext as _l
from peewee import fn

from console.common.validators import validate_mobile
from console.db import db, utcnow
from console.errors import InputError
from console.models import AuditLog, LoginEvent, PasswordResetCode, User
from console.system import audit, notify

# No glyph that reads as another: 0/O/D/Q, 1/I/L, 2/Z, 4/A, 5/S, 6/G, 8/B, U/V/Y.
CAPTCHA_ALPHABET = "CEFHJKMNPRTWX3679"
CAPTCHA_SHOWN_SIZE = (180, 60)  # CSS pixels on the login page; the image has twice as many
RESET_MAX_ATTEMPTS = 5
RESET_RESEND_SECONDS = 60
RESET_MAX_PER_IP_HOUR = 10
# Login events that count towards throttling an address (not captcha typos, not SMS requests).
THROTTLED_REASONS = ("bad_password", "no_user", "locked", "refused", "ip_throttled",
                     "slowed")


class AccountError(InputError):
    """A refused login, recovery or account change; `field` names the form field."""


# ---- login throttling ------------------------------------------------------------------
# A failed password counts against the identity as typed (email, mobile or account name,
# without case; known and unknown names alike) and against the address it came from. Five
# failures of one identity from one address lock that identity *at that address*; the owner
# elsewhere is not locked out. Many failures of one identity across addresses demand the
# captcha and slow app logins down instead.
FAILED_PASSWORD = ("bad_password", "no_user")
PASSWORD_CHECKED = FAILED_PASSWORD + ("ok", "refused", "app_only")


@dataclass(frozen=True)
class LoginPolicy:
    max_failures: int  # per identity per address, then that pair is locked
    lock_minutes: int
    window_minutes: int
    identity_max_failures: int  # per identity over all addresses: captcha, slower app logins
    slow_seconds: int

    @property
    def window(self):
        return dt.timedelta(minutes=self.window_minutes)


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


def _events_of(identity, reasons):
    """Login events of the name as typed (without case). A known account's names count each
    on their own, as unknown names do: counting them together would let a stranger learn that
    an email and a mobile belong to one account."""
    return LoginEvent.select(LoginEvent.at).where(
        LoginEvent.reason.in_(reasons),
        fn.LOWER(LoginEvent.identity) == (identity or "").strip().lower())


def _counted_since(user, ip, horizon):
    """Failures before an administrator's unlock and, at one address, before a success there
    no longer count. (The end of a lock is no mark: an unknown name has no account to write
    it on, and both must behave alike.)"""
    marks = [horizon]
    if user is not None:
        marks.append(AuditLog.select(fn.MAX(AuditLog.at)).where(
            AuditLog.action == "unlock", AuditLog.object_type == "User",
            AuditLog.object_id == str(user.id)).scalar())
        if ip is not None:
            marks.append(LoginEvent.select(fn.MAX(LoginEvent.at)).where(
                LoginEvent.user == user.id, LoginEvent.ip == ip,
                LoginEvent.success == True).scalar())  # noqa: E712
    return max(mark for mark in marks if mark is not None)


def pair_lock_until(user, identity, ip, policy, now=None):
    """When the lock of this identity at this address ends, or None. A lock starts at the
    failure that makes `max_failures` within the window and lasts `lock_minutes`; tries while
    locked are refused unchecked, and after it the count starts again from zero."""
    now = now or utcnow()
    lock = dt.timedelta(minutes=policy.lock_minutes)
    since = _counted_since(user, ip, now - lock - policy.window)
    failures = [e.at for e in _events_of(identity, FAILED_PASSWORD).where(
        LoginEvent.ip == ip, LoginEvent.at >= since).order_by(LoginEvent.at)]
    until, run = None, []
    for at in failures:
        run = [t for t in run if t > at - policy.window] + [at]
        if len(run) >= policy.max_failures:
            until, run = at + lock, []
    return until if until is not None and until > now else None


def identity_under_attack(user, identity, policy, now=None):
    """Many failures of one identity from all addresses together: a distributed guess."""
    since = _counted_since(user, None, (now or utcnow()) - policy.window)
    failures = _events_of(identity, FAILED_PASSWORD).where(LoginEvent.at >= since)
    return failures.count() >= policy.identity_max_failures


def slow_down_seconds(user, identity, ip, policy, now=None):
    """Seconds to wait before the next password check of an identity under attack, for a
    caller without a captcha; 0 at an address where the account has logged in before."""
    if user is not None and LoginEvent.select().where(
            LoginEvent.user == user.id, LoginEvent.ip == ip,
            LoginEvent.success == True).exists():  # noqa: E712
        return 0
    now = now or utcnow()
    last = (_events_of(identity, PASSWORD_CHECKED)
            .order_by(LoginEvent.at.desc()).first())
    if last is None:
        return 0
    wait = policy.slow_seconds - (now - last.at).total_seconds()
    return max(0, int(wait + 0.999))


def note_failed_password(user, identity, ip, policy):
    """After a failed password: the end of the lock it starts at this address, or None. A
    known account's lock is also written on the account (`locked_until`, shown on the Users
    page, where an administrator can lift it) and audited."""
    until = pair_lock_until(user, identity, ip, policy)
    if until is not None and user is not None:
        User.update(locked_until=until).where(User.id == user.id).execute()
        audit.record("lock", user, None, {"locked_until": until.isoformat()},
                     note=f"{policy.max_failures} failed logins from {ip or 'unknown address'}")
    return until


def minutes_until(moment, now=None):
    return max(1, int(((moment - (now or utcnow())).total_seconds() + 59) // 60))


def lock_minutes_left(user, now=None):
    """Minutes the account's last lock (at some address) still runs; 0 when none does."""
    now = now or utcnow()
    if user.locked_until and user.locked_until > now:
        return minutes_until(user.locked_until, now)
    return 0


def is_locked_out(user, form_error=None):
    """Flask-Security's question after a right password (`User.is_locked`): is the account
    locked, under any of its names, at the caller's address? Elsewhere a lock does not stop
    its owner. (The console's login form has asked already, before checking the password.)"""
    if not has_request_context():
        return False
    ip, policy = request.remote_addr or "", login_policy()
    ends = [until for name in {user.email, user.username, user.phone} if name
            for until in [pair_lock_until(user, name, ip, policy)] if until is not None]
    if ends and form_error is not None:
        form_error.append(locked_message(minutes_until(max(ends))))
    return bool(ends)


def login_policy():
    """The thresholds in force (参数设置, security.*)."""
    from console.system.params import param
    return LoginPolicy(param("security.login_max_failures"),
                       param("security.login_lock_minutes"),
                       param("security.login_window_minutes"),
                       param("security.identity_max_failures"),
                       param("security.login_slow_seconds"))


def locked_message(minutes):
    return _l("Too many failed attempts: this account is locked. Try again in "
              "%(minutes)s minutes or reset the password by SMS.", minutes=minutes)


def slowed_message(seconds):
    return _l("Too many failed logins for this account: wait %(seconds)s seconds and try "
              "again, or log in on the web with the captcha.", seconds=seconds)


def end_sessions(user):
    """End every session, remember cookie and app token of the account: Flask-Security ties
    all of them to `fs_uniquifier` (logout; a password change does the same)."""
    User.update(fs_uniquifier=uuid.uuid4().hex).where(User.id == user.id).execute()


def unlock(user):
    """Lift the account's locks at every address now: failures before this audited moment no
    longer count."""
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
    """Draw the captcha: bold letters at random offsets and angles over thin noise lines, at
    twice the size it is shown (CAPTCHA_SHOWN_SIZE) so it stays sharp on dense screens."""
    from PIL import Image, ImageDraw

    width, height = CAPTCHA_SHOWN_SIZE[0] * 2, CAPTCHA_SHOWN_SIZE[1] * 2
    image = Image.new("RGB", (width, height), (246, 248, 250))
    draw = ImageDraw.Draw(image)
    rng = random.Random(secrets.randbits(64))
    for _ in range(5):
        draw.line([(rng.randint(0, width), rng.randint(0, height)) for _ in range(2)],
                  fill=(rng.randint(150, 210),) * 3, width=2)
    font = _captcha_font(int(height * 0.58))
    cell = (width - 24) // max(1, len(text))
    for i, char in enumerate(text):
        glyph = Image.new("RGBA", (cell + 20, height), (0, 0, 0, 0))
        ImageDraw.Draw(glyph).text(((cell + 20) / 2, height / 2), char, font=font, anchor="mm",
                                   fill=(rng.randint(10, 70), rng.randint(30, 90),
                                         rng.randint(120, 170)))
        glyph = glyph.rotate(rng.randint(-20, 20), resample=Image.BICUBIC)
        image.paste(glyph, (2 + i * cell + rng.randint(-4, 4), rng.randint(-6, 6)), glyph)
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def _captcha_font(size):
    """DejaVu Sans Bold (shipped with matplotlib, a dependency) reads best; Pillow's own
    font otherwise."""
    import importlib.util
    from pathlib import Path

    from PIL import ImageFont

    spec = importlib.util.find_spec("matplotlib")
    for folder in (spec.submodule_search_locations or []) if spec else []:
        path = Path(folder) / "mpl-data" / "fonts" / "ttf" / "DejaVuSans-Bold.ttf"
        if path.exists():
            return ImageFont.truetype(str(path), size)
    return ImageFont.load_default(size=size)


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
