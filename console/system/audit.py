"""Audit trail: who changed what, from where, with the record before and after.

Operations call `record()`; the request layer sets the actor and IP once per request through
`acting_as()`, so domain code never touches Flask."""
import contextvars
import datetime as dt
import decimal

from playhouse.shortcuts import model_to_dict

from console.models import AuditLog

_actor = contextvars.ContextVar("audit_actor", default=(None, ""))
SECRET_FIELDS = {"password", "fs_uniquifier", "code_hash"}


def acting_as(user, ip=""):
    """Set who is acting for the rest of this request/job."""
    _actor.set((user, ip or ""))


def snapshot(obj):
    if obj is None:
        return None
    raw = model_to_dict(obj, recurse=False)
    return {k: _plain(v) for k, v in raw.items() if k not in SECRET_FIELDS}


def _plain(value):
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    return value


def record(action, obj=None, before=None, after=None, *, object_type=None, object_id=None,
           note="", actor=None):
    user, ip = _actor.get()
    actor = actor or user
    AuditLog.create(
        actor=actor.id if actor is not None else None,
        actor_name=str(actor) if actor is not None else "system",
        ip=ip,
        action=action,
        object_type=object_type or (type(obj).__name__ if obj is not None else ""),
        object_id=str(object_id if object_id is not None else (obj._pk if obj else "")),
        object_repr=str(obj)[:255] if obj is not None else "",
        before=before,
        after=after,
        note=note,
    )
