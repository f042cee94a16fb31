"""Monitoring pages: the audit log, login history, the outbox and the SMS sandbox, and the
message templates."""
import string

from flask_admin.contrib.peewee import filters
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup

from console.models import AuditLog, LoginEvent, MessageTemplate, Outbox, SandboxSms
from console.views import audit_labels
from console.views.base import ConsoleModelView, DomainError, ReadOnlyView
from console.views.labels import LABELS

CATEGORY = _l("Monitoring")
TEMPLATE_FIELDS = {"password_reset_sms": {"code", "minutes"}}
LOGIN_REASONS = {"ok": _l("Signed in"), "bad_password": _l("Wrong password"),
                 "no_user": _l("Unknown account"), "captcha": _l("Wrong captcha"),
                 "locked": _l("Locked"), "ip_throttled": _l("Too many from this IP"),
                 "refused": _l("Refused"), "reset_code": _l("SMS code requested"),
                 "slowed": _l("Slowed down"), "app_only": _l("App account: refused")}
CHANGES_SHOWN = 3  # changed fields a list row shows; the details page shows them all


def _login_reason(view, context, model, name):
    return LOGIN_REASONS.get(model.reason, model.reason)


def _success(view, context, model, name):
    icon, title = (("fa-check-circle text-success", _("Yes")) if model.success
                   else ("fa-times-circle text-danger", _("No")))
    return Markup('<i class="fa %s" title="%s"></i>') % (icon, title)


def _action(view, context, model, name):
    label = audit_labels.action_label(model.action)
    return Markup('<span title="%s">%s</span>') % (model.action, label)


def _object(view, context, model, name):
    kind = audit_labels.object_label(model.object_type)
    number = f" #{model.object_id}" if model.object_id else ""
    return Markup('<span class="text-muted small">%s%s</span> %s') % (
        kind, number, model.object_repr)


def _changes(limit):
    def render(view, context, model, name):
        rows = audit_labels.changes(model.before, model.after)
        if not rows:
            return ""
        shown = rows if limit is None else rows[:limit]
        created = not model.before  # a new record: its values, no "before" column
        cells = Markup("").join(
            (Markup('<tr><th>%s</th><td class="audit-after" colspan="3">%s</td></tr>') % (
                label, after)) if created else
            (Markup('<tr><th>%s</th><td class="audit-before">%s</td><td>→</td>'
                    '<td class="audit-after">%s</td></tr>') % (label, before, after))
            for label, before, after in shown)
        more = ""
        if len(rows) > len(shown):
            more = Markup('<a href="%s" class="small">%s</a>') % (
                view.get_url(".details_view", id=model.id),
                _("%(count)s more changes", count=len(rows) - len(shown)))
        return Markup('<table class="audit-changes">%s</table>%s') % (cells, more)
    return render


class AuditLogView(ReadOnlyView):
    """Append-only: no create, edit or delete exists for anyone. Each row says, in the page's
    language, who did what to which record, and which fields changed from what to what."""
    column_list = ["at", "actor_name", "action", "object", "changes", "note", "ip"]
    column_details_list = ["at", "actor_name", "ip", "action", "object", "changes", "note"]
    column_default_sort = ("id", True)
    column_sortable_list = ["at", "actor_name", "action"]
    column_searchable_list = ["object_repr", "actor_name", "object_id", "note"]
    column_labels = dict(LABELS, changes=_l("Changes"), object=_l("Object"))
    column_formatters = {"action": _action, "object": _object, "changes": _changes(
        CHANGES_SHOWN)}
    column_formatters_detail = dict(column_formatters, changes=_changes(None))
    column_export_list = ["at", "actor_name", "ip", "action", "object_type", "object_id",
                          "object_repr", "changes", "note"]
    column_formatters_export = {
        "action": lambda v, c, m, n: str(audit_labels.action_label(m.action)),
        "object_type": lambda v, c, m, n: str(audit_labels.object_label(m.object_type)),
        "changes": lambda v, c, m, n: "; ".join(
            f"{label}: {before} → {after}"
            for label, before, after in audit_labels.changes(m.before, m.after, plain=True)),
    }
    can_export = True
    simple_list_pager = True
    page_size = 20

    def __init__(self, *args, **kwargs):
        self.column_filters = [
            "at", filters.FilterEqual(AuditLog.action, _l("Action"),
                                      options=audit_labels.action_options),
            filters.FilterEqual(AuditLog.object_type, _l("Object type"),
                                options=audit_labels.object_options),
            "actor_name", "ip"]
        super().__init__(*args, **kwargs)


class LoginEventView(ReadOnlyView):
    column_list = ["at", "identity", "user", "ip", "success", "reason", "user_agent"]
    column_default_sort = ("id", True)
    column_searchable_list = ["identity", "ip"]
    column_filters = ["at", "success", "ip",
                      filters.FilterEqual(LoginEvent.reason, _l("Result"),
                                          options=list(LOGIN_REASONS.items()))]
    column_labels = LABELS
    column_formatters = {"reason": _login_reason, "success": _success,
                         "user": lambda v, c, m, n: m.user.email if m.user_id else ""}
    column_formatters_export = {"reason": lambda v, c, m, n: str(_login_reason(v, c, m, n))}
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
