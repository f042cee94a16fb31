"""Outbox and delivery channels. Messages are queued inside the caller's transaction and
delivered after commit by `deliver_pending()` (a scheduler job), with retries and backoff.

Channels plug in behind one interface; the default SMS channel is a sandbox that stores what it
would have sent, visible in the console."""
import datetime as dt

from console.db import db, utcnow
from console.models import MessageTemplate, Outbox, SandboxSms

MAX_ATTEMPTS = 5


class Channel:
    name = ""

    def send(self, message: Outbox):
        raise NotImplementedError


class SandboxSmsChannel(Channel):
    name = "sms"

    def send(self, message):
        if not message.recipient.isdigit():
            raise ValueError(f"not a phone number: {message.recipient}")
        SandboxSms.create(phone=message.recipient, body=message.body, outbox=message.id)


class ConsoleChannel(Channel):
    """In-console notifications: the outbox row itself is what the console shows."""
    name = "console"

    def send(self, message):
        return None


CHANNELS = {c.name: c for c in (SandboxSmsChannel(), ConsoleChannel())}


def render_template(code, locale, /, **values):  # "code" may be a placeholder too
    template = (MessageTemplate.get_or_none(code=code, locale=locale)
                or MessageTemplate.get_or_none(code=code, locale="zh_Hans_CN"))
    if template is None:
        raise LookupError(f"message template {code!r} is missing")
    return template.body.format(**values)


def enqueue(channel, recipient, body, subject=""):
    if channel not in CHANNELS:
        raise ValueError(f"unknown channel {channel!r}")
    return Outbox.create(channel=channel, recipient=recipient, body=body, subject=subject)


def deliver_pending(limit=200, now=None):
    """Job: deliver due messages. Each is claimed with a conditional update, so two processes
    running this job never send the same message twice."""
    now = now or utcnow()
    sent = failed = 0
    due = list(Outbox.select(Outbox.id).where(Outbox.status == "pending",
                                              Outbox.next_attempt_at <= now)
               .order_by(Outbox.id).limit(limit))
    for row in due:
        with db.atomic():
            claimed = Outbox.update(status="sending").where(
                Outbox.id == row.id, Outbox.status == "pending").execute()
            if not claimed:
                continue
            message = Outbox.get_by_id(row.id)
            try:
                CHANNELS[message.channel].send(message)
            except Exception as exc:  # a channel failure is retried, never lost
                attempts = message.attempts + 1
                Outbox.update(
                    status="failed" if attempts >= MAX_ATTEMPTS else "pending",
                    attempts=attempts, last_error=str(exc)[:1000],
                    next_attempt_at=now + dt.timedelta(seconds=30 * 2 ** attempts),
                ).where(Outbox.id == message.id).execute()
                failed += 1
            else:
                Outbox.update(status="sent", attempts=message.attempts + 1, sent_at=now
                              ).where(Outbox.id == message.id).execute()
                sent += 1
    return {"sent": sent, "failed": failed}


JOBS = {"outbox": (deliver_pending, 10)}  # name: (function, every N seconds)
