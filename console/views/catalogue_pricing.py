"""Pricing rule sets (a change is a new version; the list is the history) and the preview
calculator where staff enter inputs and see each fee with the rule version it used."""
import datetime as dt
import json
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from flask import request, url_for
from flask_admin import expose
from flask_admin.contrib.peewee import filters
from flask_admin.model.template import LinkRowAction
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup, escape
from wtforms import SelectField, StringField, TextAreaField
from wtforms.widgets import TextArea

from console.catalogue import items as catalogue
from console.catalogue import pricing, pricing_params
from console.common.bounds import parse_id
from console.common.clock import as_local_input, local_time, parse_local_input, to_local
from console.common.money import format_yuan, parse_yuan
from console.db import utcnow
from console.errors import DomainError, InputError
from console.models import PRICING_KINDS, CarModel, PricingRuleSet, ServiceItem
from console.orders.types import ORDER_TYPE_LABELS
from console.system import rbac
from console.views.base import ConsoleModelView, ConsolePage
from console.views.catalogue import ORDER_TYPE_CHOICES, car_model_choices
from console.views.labels import LABELS

KIND_LABELS = {"estimate": _l("Estimate"), "butler_fee": _l("Butler fee"),
               "designated_driving_fee": _l("Designated-driving fee"),
               "delivery_fee": _l("Delivery fee"), "loyalty_points": _l("Loyalty points"),
               "refusal_bonus": _l("Refusal / timeout bonus")}
PART_LABELS = {"base": _l("Base fare"), "distance": _l("Distance beyond the included km"),
               "night_surcharge": _l("Night surcharge"), "labour": _l("Labour cost"),
               "parts": _l("Parts cost"), "minimum_top_up": _l("Top-up to the minimum"),
               "delivery": _l("Delivery"), "points": _l("Points"), "bonus": _l("Bonus")}


class JsonArea(TextArea):
    input_type = "textarea"  # read by Flask-Admin's form template beside a description


def rule_state(rule, now=None):
    now = now or utcnow()
    if rule.effective_from > now:
        return "scheduled"
    current = pricing.rule_in_force(rule.kind, now, PricingRuleSet.rules(rule.kind))
    return "in_force" if current.id == rule.id else "superseded"


STATE_BADGES = {"in_force": ("success", _l("In force")), "scheduled": ("info", _l("Scheduled")),
                "superseded": ("light", _l("Superseded"))}


def _state(view, context, model, name):
    tone, label = STATE_BADGES[rule_state(model)]
    return Markup(f'<span class="badge badge-{tone}">{escape(label)}</span>')


PARAMETER_LABELS = {
    "base_fen": _l("Base fare"), "included_m": _l("Distance included"),
    "per_km_fen": _l("Per km beyond it"), "night_start": _l("Night from"),
    "night_end": _l("Night until"), "night_surcharge_fen": _l("Night surcharge"),
    "timezone": _l("Time zone"), "labour_tiers": _l("Labour by displacement"),
    "from_displacement_ml": _l("From displacement"), "labour_permille": _l("Labour rate"),
    "parts_markup_permille": _l("Parts markup"), "minimum_fen": _l("Minimum"),
    "default_fen": _l("Default"), "by_order_type": _l("By order type"),
    "points_per_yuan": _l("Points per yuan"), "per_event_fen": _l("Per refusal or timeout"),
    "max_fen": _l("Maximum"),
}


def parameter_lines(parameters):
    """[(label, value, key)] of a parameter set in words: money in yuan, distances in km,
    displacements in litres, rates in per cent, order types by name."""
    lines = []
    known = list(PARAMETER_LABELS)
    for key, value in sorted(parameters.items(), key=lambda kv: (
            known.index(kv[0]) if kv[0] in known else len(known), kv[0])):
        label = PARAMETER_LABELS.get(key, key)
        if key == "by_order_type" and isinstance(value, dict):
            value = "; ".join(f"{ORDER_TYPE_LABELS.get(t, t)} {format_yuan(fen)}"
                              for t, fen in value.items()) or "—"
        elif isinstance(value, list):
            value = "; ".join(", ".join(f"{PARAMETER_LABELS.get(k, k)} {_amount(k, v)}"
                                        for k, v in tier.items()) for tier in value
                              if isinstance(tier, dict))
        else:
            value = _amount(key, value)
        lines.append((str(label), value, key))
    return lines


def _amount(key, value):
    if not isinstance(value, int) or isinstance(value, bool):
        return str(value)
    if key.endswith("_fen"):
        return format_yuan(value)
    if key.endswith("_m"):
        return f"{Decimal(value) / 1000:g} km"
    if key.endswith("_ml"):
        return f"{Decimal(value) / 1000:.1f} L"
    if key.endswith("_permille"):
        return f"{Decimal(value) / 10:g}%"
    return str(value)


def _parameters(view, context, model, name):
    rows = Markup("").join(
        Markup('<tr><th title="%s">%s</th><td>%s</td></tr>') % (key, label, value)
        for label, value, key in parameter_lines(model.parameters or {}))
    return Markup('<table class="rule-parameters">%s</table>') % rows


class PricingRuleSetView(ConsoleModelView):
    """Versions are never edited: "new version" copies one into the create form."""
    can_edit = False
    column_list = ["kind", "version", "state", "effective_from", "parameters", "note",
                   "created_by", "created_at"]
    column_details_list = column_list
    column_default_sort = [("kind", False), ("version", True)]
    column_filters = [filters.FilterEqual(PricingRuleSet.kind, _l("Kind"),
                                          options=[(k, KIND_LABELS[k]) for k in PRICING_KINDS])]
    column_sortable_list = ["kind", "version", "effective_from", "created_at"]
    column_labels = dict(LABELS, kind=_l("Kind"), version=_l("Version"), state=_l("State"),
                         effective_from=_l("Effective from"), parameters=_l("Parameters"),
                         created_by=_l("Created by"))
    column_formatters = {"kind": lambda v, c, m, n: KIND_LABELS.get(m.kind, m.kind),
                         "state": _state, "parameters": _parameters,
                         "effective_from": lambda v, c, m, n: local_time(m.effective_from),
                         "created_at": lambda v, c, m, n: local_time(m.created_at)}
    column_formatters_detail = column_formatters
    form_columns = ["kind", "effective_from", "parameters", "note"]
    form_overrides = {"kind": SelectField, "effective_from": StringField,
                      "parameters": TextAreaField}
    form_args = {
        "kind": {"choices": [(k, KIND_LABELS[k]) for k in PRICING_KINDS]},
        "effective_from": {"description": _l("Platform time zone. A version applies from "
                                             "this moment until a later one starts."),
                           "render_kw": {"type": "datetime-local"}},
        "parameters": {"description": _l("JSON. All money in integer fen (¥38.00 is 3800); "
                                          "distances in metres."),
                       "widget": JsonArea(),
                       "render_kw": {"rows": 14, "class": "form-control text-monospace"}},
    }
    create_template = "catalogue/rule_create.html"

    def get_list_row_actions(self):
        actions = super().get_list_row_actions()
        if self.can_create:
            actions.append(LinkRowAction("fa fa-copy", url_for(".create_view") + "?copy={row_id}",
                                         title=_l("New version from this one")))
        return actions

    def create_form(self, obj=None):
        form = super().create_form(obj)
        if request.method == "GET":
            source = PricingRuleSet.get_or_none(PricingRuleSet.id == request.args.get(
                "copy", type=parse_id)) if request.args.get("copy") else None
            kind = source.kind if source else request.args.get("kind", "designated_driving_fee")
            form.kind.data = kind if kind in PRICING_KINDS else PRICING_KINDS[0]
            template = source or self._in_force(form.kind.data)
            form.parameters.data = json.dumps(template.parameters if template else {},
                                              ensure_ascii=False, indent=2)
            tomorrow = to_local(utcnow()).date() + dt.timedelta(days=1)
            form.effective_from.data = f"{tomorrow.isoformat()}T00:00"
        return form

    @staticmethod
    def _in_force(kind):
        try:
            return pricing.rule_in_force(kind, utcnow(), PricingRuleSet.rules(kind))
        except pricing.PricingError:
            return None

    def create_model(self, form):
        try:
            try:
                parameters = json.loads(form.parameters.data or "")
            except json.JSONDecodeError as exc:
                raise InputError("parameters", _(
                    "Parameters: not valid JSON (line %(line)s, column %(column)s: %(error)s).",
                    line=exc.lineno, column=exc.colno, error=exc.msg)) from None
            effective = parse_local_input(form.effective_from.data, "effective_from",
                                    _("Effective from"))
            return catalogue.create_rule_set(form.kind.data, parameters, effective,
                                             form.note.data, current_user)
        except DomainError as exc:
            self.handle_view_exception(exc, form)
            return False

    def render(self, template, **kwargs):
        if template == self.create_template:
            kwargs["schemas"] = {k: pricing_params.field_names(k) for k in PRICING_KINDS}
            kwargs["kind_labels"] = KIND_LABELS
            kwargs["parameter_labels"] = PARAMETER_LABELS
        return super().render(template, **kwargs)


# ---- the preview calculator -------------------------------------------------------------
class PricingPreviewPage(ConsolePage):
    """Enter an order's inputs; see every fee, its breakdown and the rule version used."""

    @expose("/")
    def index(self):
        inputs, errors = self._inputs()
        results = self._results(inputs, errors) if request.args else []
        return self.render("catalogue/pricing_preview.html", inputs=inputs, errors=errors,
                           results=results, order_types=ORDER_TYPE_CHOICES,
                           car_models=car_model_choices(), kind_labels=KIND_LABELS,
                           part_labels=PART_LABELS, yuan=format_yuan,
                           rule_link=rbac.can(current_user, "pricing_rules"))

    def _inputs(self):
        args, errors = request.args, {}
        inputs = {"at": args.get("at") or as_local_input(utcnow()),
                  "distance_km": args.get("distance_km", "12.3"),
                  "order_type": args.get("order_type", "maintenance"),
                  "paid_yuan": args.get("paid_yuan", "500.00"),
                  "refusals": args.get("refusals", "1"),
                  "car_model": args.get("car_model", type=int),
                  "items": args.get("items", "")}
        try:
            inputs["at_utc"] = parse_local_input(inputs["at"], "at", _("Time"))
        except InputError as exc:
            errors["at"], inputs["at_utc"] = exc.message, utcnow()
        try:
            km = Decimal(inputs["distance_km"].strip())
            if not 0 <= km <= 2000:
                raise InvalidOperation
            inputs["distance_m"] = int((km * 1000).quantize(Decimal(1), ROUND_HALF_UP))
        except (InvalidOperation, ValueError, AttributeError):
            errors["distance_km"] = _("Distance: a number of kilometres from 0 to 2000.")
        return inputs, errors

    def _results(self, inputs, errors):
        rules = PricingRuleSet.rules()
        at = inputs["at_utc"]
        rows = []

        def add(kind, compute):
            try:
                rows.append((kind, compute(), None))
            except DomainError as exc:
                rows.append((kind, None, getattr(exc, "message", str(exc))))

        if "distance_km" not in errors:
            add("designated_driving_fee",
                lambda: pricing.designated_driving_fee(inputs["distance_m"], at, rules))
            add("butler_fee", lambda: pricing.butler_fee(inputs["distance_m"], at, rules))
        add("delivery_fee", lambda: pricing.delivery_fee(inputs["order_type"], rules, at))
        add("loyalty_points", lambda: pricing.loyalty_points(
            parse_yuan(inputs["paid_yuan"], "paid_yuan", _("Amount paid")), rules, at))
        add("refusal_bonus", lambda: pricing.refusal_bonus(
            _count(inputs["refusals"]), rules, at))
        add("estimate", lambda: pricing.estimate(self._items(inputs), CarModel.get_or_none(
            CarModel.id == inputs["car_model"]) if inputs["car_model"] else None, rules, at))
        return rows

    @staticmethod
    def _items(inputs):
        codes = [c for c in inputs["items"].replace("，", ",").replace(" ", ",").split(",") if c]
        if not codes:
            raise InputError("items", _("Items: enter one or more item codes."))
        found = {i.code: i for i in rbac.scoped(ServiceItem.select(), ServiceItem, current_user)
                 .where(ServiceItem.code.in_(codes))}
        missing = [c for c in codes if c not in found]
        if missing:
            raise InputError("items", _("Items: unknown item code(s) %(codes)s.",
                                            codes=", ".join(missing)))
        return [found[c] for c in codes]


def _count(text):
    value = (text or "").strip()
    if not value.isdigit() or int(value) > 1000:
        raise InputError("refusals", _("Refusals or timeouts: a whole number from 0 to "
                                           "1000."))
    return int(value)


def register(admin, category):
    admin.add_view(PricingRuleSetView(PricingRuleSet, name=_l("Pricing rules"),
                                      category=category, endpoint="pricing_rules"))
    admin.add_view(PricingPreviewPage(name=_l("Pricing calculator"), category=category,
                                      endpoint="pricing_preview"))
