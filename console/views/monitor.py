"""Monitoring pages: the audit log, login history, the outbox and the SMS sandbox, and the
message templates."""
import json
import string

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape

from console.models import AuditLog, LoginEvent, MessageTemplate, Outbox, SandboxSms
from console.views.base import ConsoleModelView, DomainError, ReadOnlyView
from console.views.labels import LABELS

CATEGORY = _l("Monitoring")
TEMPLATE_FIELDS = {"password_reset_sms": {"code", "minutes"}}
LOGIN_REASONS = {"ok": _l("Signed in"), "bad_password": _l("Wrong password"),
                 "no_user": _l("Unknown account"), "captcha": _l("Wrong captcha"),
                 "locked": _l("Locked"), "ip_throttled": _l("Too many from this IP"),
                 "refused": _l("Refused"), "reset_code": _l("SMS code requested")}


def _json_block(view, context, model, name):
    value = getattr(model, name)
    if value is None:
        return ""
    text = json.dumps(value, ensure_ascii=False, indent=1, sort_keys=True)
    return Markup(f'<pre class="small mb-0" style="max-width:28em;white-space:pre-wrap">'
                  f'{escape(text)}</pre>')


class AuditLogView(ReadOnlyView):
    """Append-only: no create, edit or delete exists for anyone."""
    column_list = ["at", "actor_name", "ip", "action", "object_type", "object_id",
                   "object_repr", "before", "after", "note"]
    column_default_sort = ("id", True)
    column_searchable_list = ["object_repr", "actor_name", "object_id", "note"]
    column_filters = ["at", "action", "object_type", "actor_name", "ip"]
    column_labels = LABELS
    column_formatters = {"before": _json_block, "after": _json_block}
    column_formatters_detail = column_formatters
    can_export = True
    simple_list_pager = True


class LoginEventView(ReadOnlyView):
    column_list = ["at", "identity", "user", "ip", "success", "reason", "user_agent"]
    column_default_sort = ("id", True)
    column_searchable_list = ["identity", "ip"]
    column_filters = ["at", "success", "reason", "ip"]
    column_labels = LABELS
    column_formatters = {"reason": lambda v, c, m, n: LOGIN_REASONS.get(m.reason, m.reason)}
    simple_list_pager = True


class OutboxView(ReadOnlyView):
    column_list = ["created_at", "channel", "recipient", "subject", "status", "attempts",
                   "sent_at", "last_error"]
    column_default_sort = ("id", True)
    column_filters = ["channel", "status"]
    column_searchable_list = ["recipient"]
    column_labels = LABELS


class SandboxSmsView(ReadOnlyView):
    """What the sandbox SMS channel would have sent."""
    column_list = ["at", "phone", "body"]
    column_default_sort = ("id", True)
    column_searchable_list = ["phone"]
    column_labels = dict(LABELS, phone=_l("Mobile"))


class MessageTemplateView(ConsoleModelView):
    column_list = ["code", "locale", "body"]
    column_labels = LABELS
    form_columns = ["code", "locale", "body"]
    form_choices = {"locale": [("zh_Hans_CN", "中文"), ("en", "English")],
                    "code": [(c, c) for c in TEMPLATE_FIELDS]}

    def on_model_change(self, form, model, is_created):
        allowed = TEMPLATE_FIELDS.get(model.code, set())
        try:
            used = {f for _, f, _, _ in string.Formatter().parse(model.body) if f}
        except ValueError as exc:
            raise DomainError(_("Text: the template is malformed (%(error)s).",
                                error=str(exc))) from exc
        unknown = used - allowed
        if unknown:
            raise DomainError(_("Text: unknown placeholder(s) %(names)s; allowed: %(allowed)s.",
                                names=", ".join(sorted(unknown)),
                                allowed=", ".join(sorted(allowed))))


def register(admin):
    admin.add_view(AuditLogView(AuditLog, name=_l("Audit log"), category=CATEGORY,
                                endpoint="audit"))
    admin.add_view(LoginEventView(LoginEvent, name=_l("Login history"), category=CATEGORY,
                                  endpoint="logins"))
    admin.add_view(OutboxView(Outbox, name=_l("Outbox"), category=CATEGORY, endpoint="outbox"))
    admin.add_view(SandboxSmsView(SandboxSms, name=_l("SMS sandbox"), category=CATEGORY,
                                  endpoint="sms"))
    admin.add_view(MessageTemplateView(MessageTemplate, name=_l("Message templates"),
                                       category=CATEGORY, endpoint="templates"))
