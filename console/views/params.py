"""Platform parameters (参数设置): the list grouped by area, one page per parameter with the
values in force per scope, the scheduled ones and the history, and a change made in two steps
— preview the before and after, then confirm. The rules live in console/system/params.py."""
import datetime as dt

from flask import abort, flash, redirect, request, url_for
from flask_admin import expose
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from console.common.bounds import parse_id
from console.common.clock import as_local_input, local_time, parse_local_input
from console.db import utcnow
from console.errors import InputError
from console.models import Organization, ParamValue, User
from console.orders.types import ORDER_TYPE_LABELS, ORDER_TYPES
from console.system import params
from console.views.base import ConsolePage
from console.views.labels import localized

AREA_LABELS = {"dispatch": _l("Dispatch"), "appointments": _l("Appointments"),
               "membership": _l("VIP membership"),
               "certification": _l("Supplier certification"), "security": _l("Login security")}
FORM_FIELDS = ("value", "city", "order_type", "when", "effective_from", "note")
SCOPE_LABELS = {"global": _l("Whole platform"), "city": _l("Per city"),
                "order_type": _l("Per order type"),
                "city_order_type": _l("Per city and order type")}


def _cities():
    return list(Organization.select().where(Organization.kind == "city",
                                            Organization.is_active == True)  # noqa: E712
                .order_by(Organization.code))


def _scope_text(city, order_type, cities):
    parts = [localized(cities[city].name, cities[city].name_en) if city in cities
             else "" if city is None else str(city),
             str(ORDER_TYPE_LABELS.get(order_type, order_type)) if order_type else ""]
    return " · ".join(p for p in parts if p) or str(_("Whole platform"))


class ParamsPage(ConsolePage):
    elements = {"edit": _l("Change a parameter"),
                "edit_sensitive": _l("Change a security parameter"),
                "withdraw": _l("Withdraw a scheduled value")}

    @expose("/")
    def index(self):
        now = utcnow()
        live = list(ParamValue.select().where(ParamValue.withdrawn_at.is_null()))
        groups = {}
        for spec in params.REGISTRY.values():
            rows = [r for r in live if r.key == spec.key]
            groups.setdefault(spec.area, []).append({
                "spec": spec, "value": params.param(spec.key, at=now),
                "overrides": len({(r.city_id, r.order_type) for r in rows
                                  if (r.city_id or r.order_type) and r.effective_from <= now}),
                "scheduled": sum(1 for r in rows if r.effective_from > now)})
        return self.render("system/params.html", groups=groups, area_labels=AREA_LABELS,
                           scope_labels=SCOPE_LABELS)

    @expose("/<key>/")
    def detail(self, key):
        spec = params.REGISTRY.get(key) or abort(404)
        return self._detail(spec, {})

    def _detail(self, spec, inputs, preview=None, errors=None, status=200):
        inputs = {**dict.fromkeys(FORM_FIELDS, ""), **inputs}
        now, cities = utcnow(), {c.id: c for c in _cities()}
        rows = params.history(spec.key)
        in_force = self._in_force(spec, rows, now, cities)
        editors = {u.id: u for u in User.select().where(User.id.in_(
            {r.created_by_id for r in rows} | {r.withdrawn_by_id for r in rows}))} if rows else {}
        may_edit = self.allowed("edit_sensitive" if spec.sensitive else "edit")
        return self.render(
            "system/param_detail.html", spec=spec, rows=rows, in_force=in_force, now=now,
            cities=cities, order_types=[(t, ORDER_TYPE_LABELS[t]) for t in ORDER_TYPES],
            scope_labels=SCOPE_LABELS, levels=params.LEVELS[spec.scope], editors=editors,
            inputs=inputs, preview=preview, errors=errors or {}, may_edit=may_edit,
            may_withdraw=self.allowed("withdraw"), scope_text=_scope_text,
            unit=params.UNITS[spec.unit],
            local_time=local_time, default_effective=as_local_input(now + dt.timedelta(hours=1)),
            action=url_for(".edit_sensitive" if spec.sensitive else ".edit")), status

    @staticmethod
    def _in_force(spec, rows, now, cities):
        """One line per scope that has a value in force now (and the default)."""
        lines, seen = [], set()
        for row in rows:  # newest first
            scope = (row.city_id, row.order_type or None)
            if row.withdrawn_at or row.effective_from > now or scope in seen:
                continue
            seen.add(scope)
            lines.append({"scope": _scope_text(*scope, cities), "value": spec.show(row.value),
                          "since": local_time(row.effective_from), "row": row})
        lines.sort(key=lambda line: (line["row"].city_id is not None,
                                     bool(line["row"].order_type)))
        return [{"scope": _("Default"), "value": spec.show(spec.default), "since": "",
                 "row": None}] + lines

    # ---- changes: preview, then confirm -------------------------------------------------
    @expose("/edit", methods=["POST"])
    def edit(self):
        spec = self._spec(sensitive=False)
        return self._change(spec)

    @expose("/edit-sensitive", methods=["POST"])
    def edit_sensitive(self):
        spec = self._spec(sensitive=True)
        return self._change(spec)

    def _spec(self, sensitive):
        spec = params.declared(request.form.get("key", ""))
        if spec.sensitive != sensitive:
            abort(403)  # each kind of parameter has its own permission and its own form
        return spec

    def _change(self, spec):
        form = request.form
        inputs = {name: form.get(name, "") for name in FORM_FIELDS}
        try:
            change = self._read(spec, inputs)
        except InputError as exc:
            return self._detail(spec, inputs, errors={exc.field or "value": exc.message},
                                status=422)
        if form.get("confirm") != "1":
            before = params.param(spec.key, change["city"], change["order_type"],
                                  change["effective_from"] or utcnow())
            return self._detail(spec, inputs, preview={
                "before": spec.show(before), "after": spec.show(change["value"]),
                "scope": _scope_text(change["city"], change["order_type"],
                                     {c.id: c for c in _cities()}),
                "when": local_time(change["effective_from"]) if change["effective_from"]
                else _("now")})
        params.set_value(spec.key, change["value"], current_user._get_current_object(),
                         city=change["city"], order_type=change["order_type"],
                         effective_from=change["effective_from"], note=inputs["note"][:255])
        flash(_("%(label)s: the new value is recorded.", label=spec.label), "success")
        return redirect(url_for(".detail", key=spec.key))

    @staticmethod
    def _read(spec, inputs):
        city = parse_id(inputs["city"]) if inputs["city"].strip() else None
        if inputs["city"].strip() and city is None:
            raise InputError("city", _("City: choose a city."))
        effective = None
        if inputs["when"] == "later":
            effective = parse_local_input(inputs["effective_from"], "effective_from",
                                          _("Effective from"))
            if effective <= utcnow():
                raise InputError("effective_from", _(
                    "Effective from: a new value cannot take effect in the past."))
        return {"value": spec.parse(inputs["value"]), "city": city,
                "order_type": inputs["order_type"].strip() or None,
                "effective_from": effective}

    @expose("/withdraw", methods=["POST"])
    def withdraw(self):
        row = ParamValue.get_or_none(ParamValue.id == (parse_id(request.form.get("id")) or 0))
        if row is None:
            abort(404)
        spec = params.declared(row.key)
        if spec.sensitive and not self.allowed("edit_sensitive"):
            abort(403)
        params.withdraw(row, current_user._get_current_object())
        flash(_("The scheduled value was withdrawn."), "success")
        return redirect(url_for(".detail", key=row.key))


def register(admin):
    admin.add_view(ParamsPage(name=_l("Platform parameters"), endpoint="params"))
