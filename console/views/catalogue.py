"""Master data pages of the catalogue: suppliers' service items with the platform review.
Pricing rules and the calculator are in catalogue_pricing, the Excel imports in
catalogue_imports; `register` adds all three."""
from decimal import Decimal

from flask import abort, flash, redirect, request, url_for
from flask_admin import expose
from flask_admin.actions import action
from flask_admin.contrib.peewee import filters
from flask_admin.form import Select2Widget
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup, escape
from wtforms import HiddenField, SelectMultipleField, StringField

from console.catalogue import items as catalogue
from console.common import xlsx as imports
from console.common.clock import local_time
from console.common.money import format_yuan
from console.db import utcnow
from console.errors import DomainError
from console.models import CarModel, ServiceItem, ServiceItemPart, Supplier
from console.orders.types import ORDER_TYPE_LABELS, SERVICE_TYPES
from console.system import audit
from console.views.base import ConsoleModelView
from console.views.labels import LABELS

CATEGORY = _l("Master data")
ORDER_TYPE_CHOICES = [(t, ORDER_TYPE_LABELS[t]) for t in SERVICE_TYPES]
STATUS_BADGES = {"draft": "secondary", "pending": "warning", "approved": "success",
                 "rejected": "danger"}
ITEM_LABELS = dict(
    LABELS, code=_l("Item code"), name=_l("Item name"), supplier=_l("Supplier"),
    order_type=_l("Order type"), labour_price_fen=_l("Labour price (yuan)"),
    review_status=_l("Review status"), review_reason=_l("Review note"),
    reviewed_by=_l("Reviewed by"), reviewed_at=_l("Reviewed at"), created_by=_l("Created by"),
    updated_at=_l("Updated at"), parts=_l("Parts lines"), car_models=_l("Car models"),
    total=_l("Labour + parts"), organization=_l("Organization"),
    **{"supplier.name": _l("Supplier"), "supplier.code": _l("Supplier code")})


class YuanField(StringField):
    """Money typed in yuan ("128.50"), held as integer fen; never more than two decimals."""

    def __init__(self, label=None, validators=None, required=True, **kwargs):
        super().__init__(label, validators, **kwargs)
        self.parse = imports.yuan(required=required)

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        return "" if self.data is None else f"{Decimal(self.data) / 100:.2f}"

    def process_formdata(self, valuelist):
        if valuelist:
            try:
                self.data = self.parse(valuelist[0])
            except imports.CellError as exc:
                self.data = None
                raise ValueError(str(exc.message)) from None


class MultiSelect2(Select2Widget):
    """Select2 multiple; `input_type` because Flask-Admin's form template reads it when a field
    has a description."""
    input_type = "select"

    def __init__(self):
        super().__init__(multiple=True)


def yes_no(value):
    icon = "fa-check-circle text-success" if value else "fa-minus-circle text-muted"
    text = _("Yes") if value else _("No")
    return Markup(f'<i class="fa {icon}"></i> {escape(text)}')


def status_badge(status):
    label = catalogue.STATUS_LABELS.get(status, status)
    return Markup(f'<span class="badge badge-{STATUS_BADGES.get(status, "light")}">'
                  f'{escape(label)}</span>')


def car_model_choices():
    return [(m.id, f"{m.brand} {m.series} {m.year_style} {m.displacement} · {m.code}")
            for m in CarModel.select().where(CarModel.is_active == True)  # noqa: E712
            .order_by(CarModel.brand_pinyin, CarModel.series_pinyin, CarModel.code)]


class ServiceItemView(ConsoleModelView):
    """Suppliers maintain their items (data scope: the supplier's organization); the platform
    reviews them. A change of priced content sends an item back to draft."""
    column_list = ["code", "name", "supplier", "order_type", "labour_price_fen", "total",
                   "review_status", "is_active", "updated_at"]
    column_details_list = ["code", "name", "supplier", "order_type", "labour_price_fen",
                           "total", "review_status", "review_reason", "reviewed_by",
                           "reviewed_at", "is_active", "created_by", "created_at", "updated_at"]
    column_default_sort = ("code", False)
    column_searchable_list = ["code", "name", Supplier.name, Supplier.code]
    column_filters = [
        filters.FilterEqual(ServiceItem.order_type, _l("Order type"), options=ORDER_TYPE_CHOICES),
        filters.FilterEqual(ServiceItem.review_status, _l("Review status"),
                            options=list(catalogue.STATUS_LABELS.items())),
        "is_active", filters.FilterEqual(Supplier.code, _l("Supplier code")),
        filters.FilterLike(Supplier.name, _l("Supplier"))]
    column_sortable_list = ["code", "name", "order_type", "labour_price_fen", "review_status",
                            "updated_at"]
    column_labels = ITEM_LABELS
    column_formatters = {
        "order_type": lambda v, c, m, n: ORDER_TYPE_LABELS.get(m.order_type),
        "labour_price_fen": lambda v, c, m, n: format_yuan(m.labour_price_fen),
        "total": lambda v, c, m, n: format_yuan(m.total_fen),
        "review_status": lambda v, c, m, n: status_badge(m.review_status),
        "updated_at": lambda v, c, m, n: local_time(m.updated_at),
        "reviewed_at": lambda v, c, m, n: local_time(m.reviewed_at),
        "created_at": lambda v, c, m, n: local_time(m.created_at),
        "is_active": lambda v, c, m, n: yes_no(m.is_active),
    }
    column_formatters_detail = column_formatters
    form_columns = ["supplier", "name", "order_type", "labour_price_fen", "is_active"]
    form_choices = {"order_type": ORDER_TYPE_CHOICES}
    # hundreds of suppliers: typed and looked up (name, code or pinyin), not one long list
    form_ajax_refs = {"supplier": {"fields": ["name", "code", "name_pinyin"], "page_size": 10,
                                   "minimum_input_length": 0}}
    form_overrides = {"labour_price_fen": YuanField}
    form_extra_fields = {"car_models": SelectMultipleField(
        _l("Car models"), coerce=int, widget=MultiSelect2(),
        description=_l("Leave empty when the item fits every car model."))}
    inline_models = [(ServiceItemPart, {
        "form_columns": ["name", "part_no", "quantity"],
        # peewee 4's AutoField is not the PrimaryKeyField Flask-Admin hides, so hide it here
        "form_extra_fields": {"id": HiddenField(),
                              "unit_price_fen": YuanField(_l("Unit price (yuan)"))},
        "form_label": _l("Parts line"),
        "form_args": {"name": {"label": _l("Part name")}, "part_no": {"label": _l("Part number")},
                      "quantity": {"label": _l("Quantity")}}})]
    details_template = "catalogue/item_details.html"
    elements = {"submit": _l("Submit for review"), "approve": _l("Approve"),
                "reject": _l("Reject")}
    can_export = True
    column_export_list = ["code", "name", "supplier.name", "order_type", "labour_price_fen",
                          "total", "review_status", "is_active"]
    column_formatters_export = {
        "order_type": lambda v, c, m, n: str(ORDER_TYPE_LABELS.get(m.order_type)),
        "labour_price_fen": lambda v, c, m, n: f"{Decimal(m.labour_price_fen) / 100:.2f}",
        "total": lambda v, c, m, n: f"{Decimal(m.total_fen) / 100:.2f}",
        "review_status": lambda v, c, m, n: str(catalogue.STATUS_LABELS[m.review_status]),
    }

    # ---- the form: supplier fixed after creation, car models and parts lines ------------
    def _load_car_models(self, form, obj):
        form.car_models.choices = car_model_choices()
        if obj is not None and request.method == "GET":
            form.car_models.data = obj.car_model_ids()
        return form

    def create_form(self, obj=None):
        return self._load_car_models(super().create_form(obj), None)

    def edit_form(self, obj=None):
        form = super().edit_form(obj)
        del form.supplier  # the item code carries the supplier's code
        return self._load_car_models(form, obj)

    def _part_lines(self, form):
        return [{key: entry.form[key].data for key in ("name", "part_no", "quantity",
                                                        "unit_price_fen")}
                for entry in form.parts.entries if not form.parts.should_delete(entry)]

    def on_model_change(self, form, model, is_created):
        if is_created:
            if not model.supplier_id:
                raise catalogue.CatalogueError("supplier", _("Supplier: choose a supplier."))
            supplier = model.supplier  # loaded by the form's choices: no read before the lock
            catalogue.assign_code(model, supplier)
            model.organization = supplier.organization_id
            model.created_by = current_user.id
        else:
            form.content_before = catalogue.content_snapshot(ServiceItem.get_by_id(model.id))
        model.name = catalogue.check_item(model.supplier, model.name, model.order_type,
                                          model.labour_price_fen)
        form.part_lines = catalogue.check_parts(self._part_lines(form))
        form.car_model_ids = catalogue.check_car_models(form.car_models.data)
        model.updated_at = utcnow()

    def after_save(self, form, model, is_created):
        catalogue.set_parts(model, form.part_lines)
        catalogue.set_car_models(model, form.car_model_ids)
        after = catalogue.content_snapshot(model)
        if not is_created:
            before = form.content_before
            if (before["parts"], before["car_models"]) != (after["parts"], after["car_models"]):
                audit.record("update_content", model, before, after)
            catalogue.mark_revised(model, before, after, current_user)

    # ---- review: buttons on the detail page, bulk actions on the list --------------------
    @expose("/review/", methods=["POST"])
    def review_view(self):
        move = request.form.get("action", "")
        if move not in self.elements:
            abort(400)
        if not self.allowed(move):
            abort(403)
        item = self.get_one(request.form.get("id", "")) or abort(404)
        catalogue.transition(item, move, current_user, request.form.get("reason", ""))
        flash(_("Item %(code)s: %(status)s.", code=item.code,
                status=catalogue.STATUS_LABELS[item.review_status]), "success")
        return redirect(url_for(".details_view", id=item.id))

    def _bulk(self, ids, move):
        done, refused = 0, []
        for item in self.get_query().where(ServiceItem.id.in_(ids)):
            try:
                catalogue.transition(item, move, current_user)
                done += 1
            except DomainError as exc:  # the others still go ahead; each refusal is listed
                refused.append(exc.message)
        if done:
            flash(_("%(count)s items updated.", count=done), "success")
        for message in refused[:5]:
            flash(message, "error")

    @action("submit", _l("Submit for review"), _l("Submit the selected items for review?"))
    def action_submit(self, ids):
        self._bulk(ids, "submit")

    @action("approve", _l("Approve"), _l("Approve the selected items?"))
    def action_approve(self, ids):
        self._bulk(ids, "approve")

    def render(self, template, **kwargs):
        kwargs.update(yuan=format_yuan, status_badge=status_badge, local_time=local_time,
                      review_labels=self.elements)
        return super().render(template, **kwargs)

    def review_moves(self, item):
        """The review buttons this user may press on `item`."""
        return [m for m in catalogue.allowed_actions(item) if self.allowed(m)]


def register(admin):
    from console.views import catalogue_imports, catalogue_pricing
    admin.add_view(ServiceItemView(ServiceItem, name=_l("Service items"), category=CATEGORY,
                                   endpoint="service_items"))
    catalogue_pricing.register(admin, CATEGORY)
    catalogue_imports.register(admin, CATEGORY)
