"""Base views: every console page checks its page resource, every button its element resource,
every query its data scope, and every change is audited inside one transaction."""
import datetime as dt
import itertools
from urllib.parse import quote

from flask import abort, flash, redirect, request, url_for
from flask_admin import AdminIndexView, BaseView, expose
from flask_admin.actions import action
from flask_admin.contrib.peewee import ModelView
from flask_admin.contrib.peewee.ajax import QueryAjaxModelLoader
from flask_admin.model import typefmt
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from peewee import IntegerField
from wtforms import SelectField

from console.common.bounds import MAX_ID, parse_id, within
from console.common.clock import local_time, to_local
from console.db import db, utcnow
from console.errors import DomainError
from console.system import audit, rbac
from console.views.labels import localized

# element resource name -> Flask-Admin's flag attribute
ELEMENTS = {"create": "can_create", "edit": "can_edit", "delete": "can_delete",
            "export": "can_export"}
ELEMENT_LABELS = {"create": _l("Create"), "edit": _l("Edit"), "delete": _l("Delete"),
                  "export": _l("Export")}
CSV_BOM = "\ufeff"
# stored times are naive UTC: every page and export shows them in the platform's time zone
LOCAL_TIMES = {dt.datetime: lambda view, value, name: local_time(value, with_seconds=True)}
# Flask-Admin view function -> the element it needs (page access is checked for all of them)
VIEW_ELEMENTS = {"create_view": "create", "edit_view": "edit", "delete_view": "delete",
                 "export": "export"}


class GuardMixin:
    """Login, page and element checks for any console view. A typed URL the user may not use
    answers 403; anonymous visitors go to the login page."""

    elements: dict = {}  # extra element resources of a custom page: {name: label}

    @property
    def page_code(self):
        return self.endpoint

    def element_code(self, element):
        return f"{self.endpoint}.{element}"

    def is_accessible(self):
        return current_user.is_authenticated and rbac.can(current_user, self.page_code)

    def is_visible(self):
        return False  # the sidebar is rendered from the database menu tree instead

    def allowed(self, element):
        return current_user.is_authenticated and rbac.can(current_user, self.element_code(element))

    def _handle_view(self, name, **kwargs):
        if not current_user.is_authenticated:
            return redirect(url_for("security.login", next=request.full_path))
        if not self.is_accessible():
            abort(403)
        element = VIEW_ELEMENTS.get(name) or self.view_elements().get(name)
        if element and not self.element_enabled(element):
            abort(403)
        return None

    def view_elements(self):
        return {}

    def element_enabled(self, element):
        return self.allowed(element)

    def declared_elements(self):
        return dict(self.elements)

    # ---- the one place the console shows a refused operation -----------------------------
    def handle_view_exception(self, exc, form=None):
        """A DomainError is flashed (and shown under its form field when there is one) and
        the request ends without a change; anything else is a bug and goes on to the 500."""
        if not isinstance(exc, DomainError):
            parent = getattr(super(), "handle_view_exception", None)
            return parent(exc) if parent else False
        if exc.field and form is not None and exc.field in form:
            form[exc.field].errors = list(form[exc.field].errors) + [exc.message]
        flash(exc.message, "error")
        return True

    def _run_view(self, fn, *args, **kwargs):
        """A custom page lets a DomainError go; it is shown here and the user is sent back to
        the page they came from (their own page within the console, else this page)."""
        try:
            return super()._run_view(fn, *args, **kwargs)
        except DomainError as exc:
            self.handle_view_exception(exc)
            return redirect(_same_site(request.referrer) or url_for(".index_view"
                            if "index_view" in dir(self) else ".index"))


def _same_site(url):
    """`url` when it points into this site (never an outside page), else None."""
    if url and url.startswith(request.host_url):
        return url
    return None


class ConsolePage(GuardMixin, BaseView):
    """A custom (non-model) console page."""

    def view_elements(self):
        return {name: name for name in self.elements}


def _permission_flag(element):
    attr = ELEMENTS[element]

    def flag(self):
        return getattr(self, f"supports_{element}") and self.allowed(element)
    flag.__name__ = attr
    return property(flag)


def primary_key(model, raw):
    """The primary key `raw` (from a URL or a form) names, or None: a malformed id is "not
    found", not a database error (PostgreSQL refuses it; beyond 2^63-1 every driver does)."""
    field = model._meta.primary_key
    if isinstance(field, IntegerField):
        return parse_id(raw)
    try:
        return field.python_value(raw)
    except (TypeError, ValueError):
        return None


class ScopedAjaxLoader(QueryAjaxModelLoader):
    """Ajax lookups see only the rows the user's data scope allows; a row with an English
    twin of its name (organizations) shows it on English pages."""

    def __init__(self, name, model, **options):
        options.setdefault("placeholder", _l("Type to search, then choose"))
        super().__init__(name, model, **options)

    def format(self, model):
        if not model:
            return None
        if "name_en" in model._meta.fields:
            return model._pk, localized(model.name, model.name_en)
        return model._pk, str(model)

    def get_one(self, pk):
        pk = primary_key(self.model, pk)
        return None if pk is None else rbac.scoped(
            self.model.select(), self.model, current_user).where(
            self.model._meta.primary_key == pk).first()

    def get_list(self, term, offset=0, limit=10):
        offset, limit = within(offset, 0, MAX_ID), within(limit, 1, 100)  # as typed in the URL
        query = rbac.scoped(self.model.select(), self.model, current_user)
        if term:
            condition = None
            for field in self._cached_fields:
                clause = field ** f"%{term}%"
                condition = clause if condition is None else condition | clause
            query = query.where(condition)
        order = [self._cached_fields[0]] if self._cached_fields else []
        return list(query.order_by(*order, self.model._meta.primary_key)
                    .offset(offset).limit(limit))


class ConsoleModelView(GuardMixin, ModelView):
    """Model pages. Subclasses declare `can_create = False` etc. as usual: such a flag says
    what the page supports; whether this user may use it is decided per request."""

    supports_create = True
    supports_edit = True
    supports_delete = False  # business records are never hard-deleted
    supports_export = False
    can_view_details = True
    can_set_page_size = True
    page_size = 20
    action_disallowed_list = ["delete"]
    column_type_formatters = {**LOCAL_TIMES, **typefmt.BASE_FORMATTERS}
    column_type_formatters_detail = {**LOCAL_TIMES, **typefmt.DETAIL_FORMATTERS}
    column_type_formatters_export = {**LOCAL_TIMES, **typefmt.EXPORT_FORMATTERS}
    rbac_sensitive = False  # True for models whose change must drop every worker's RBAC cache

    can_create = _permission_flag("create")
    can_edit = _permission_flag("edit")
    can_delete = _permission_flag("delete")
    can_export = _permission_flag("export")

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        for element, attr in ELEMENTS.items():
            value = cls.__dict__.get(attr)
            if isinstance(value, bool):
                setattr(cls, f"supports_{element}", value)
                setattr(cls, attr, _permission_flag(element))

    # ---- authorization -------------------------------------------------------------------
    def view_elements(self):
        return {}

    def _handle_view(self, name, **kwargs):
        refused = super()._handle_view(name, **kwargs)
        if refused is not None:
            return refused
        # Flask-Admin silently redirects a refused action; a typed one answers 403 here.
        if name == "action_view" and not self.is_action_allowed(request.form.get("action")):
            abort(403)
        if name == "action_view" and any(primary_key(self.model, raw) is None
                                         for raw in request.form.getlist("rowid")):
            abort(404)  # an id no row can have (malformed, beyond 2^63-1) names no record
        # An id outside the user's scope is a 404, not Flask-Admin's redirect with a flash:
        # the record does not exist for this user (Flask-Admin #1739).
        if name in ("edit_view", "details_view") and request.args.get("id") is not None \
                and self.get_one(request.args["id"]) is None:
            abort(404)
        return None

    def element_enabled(self, element):
        """An element the page does not support is refused even for the super administrator."""
        if element in ELEMENTS and not getattr(self, f"supports_{element}"):
            return False
        return self.allowed(element)

    def declared_elements(self):
        declared = {e: ELEMENT_LABELS[e] for e in ELEMENTS if getattr(self, f"supports_{e}")}
        for name, text in self._actions:
            if name != "delete":
                declared[f"action.{name}"] = text
        declared.update(self.elements)
        return declared

    def is_action_allowed(self, name):
        if name == "delete":
            return self.can_delete
        return super().is_action_allowed(name) and self.allowed(f"action.{name}")

    # ---- data scope: list, count, detail, edit, export, ajax and FK choices ---------------
    def get_query(self):
        return rbac.scoped(self.model.select(), self.model, current_user)

    def get_list(self, page, sort_column, sort_desc, search, filters, execute=True,
                 page_size=None):
        """Flask-Admin takes ?page= as typed: a page past 2^63 rows (or below 0) would reach
        the database as an OFFSET it refuses; such a page is simply empty."""
        page = within(page, 0, MAX_ID // max(page_size or self.page_size or 1, 1) - 1)
        return super().get_list(page, sort_column, sort_desc, search, filters, execute,
                                page_size)

    def get_one(self, id):
        pk = primary_key(self.model, id)
        if pk is None:
            return None
        return self.get_query().where(self.model._meta.primary_key == pk).first()

    def _create_ajax_loader(self, name, options):
        remote = getattr(self.model, name).rel_model
        return ScopedAjaxLoader(name, remote, **options)

    def create_form(self, obj=None):
        return self._scope_choices(super().create_form(obj))

    def edit_form(self, obj=None):
        return self._scope_choices(super().edit_form(obj))

    def _scope_choices(self, form):
        for field in form:
            query = getattr(field, "query", None)
            if query is not None and hasattr(query, "model"):
                field.query = rbac.scoped(query, query.model, current_user)
        return form

    def scaffold_form(self):
        """Flask-Admin's peewee converter ignores `column_labels` and `form_choices`: form
        labels come from the translated column labels, choices become select boxes."""
        args = {name: dict(opts) for name, opts in (self.form_args or {}).items()}
        overrides = dict(self.form_overrides or {})
        labels, choices = self.column_labels or {}, getattr(self, "form_choices", None) or {}
        for name in self.model._meta.fields:
            if name in labels:
                args.setdefault(name, {}).setdefault("label", labels[name])
            if name in choices:
                overrides.setdefault(name, SelectField)
                args.setdefault(name, {}).setdefault("choices", choices[name])
        self.form_args, self.form_overrides = args, overrides
        return super().scaffold_form()

    def search_placeholder(self):
        return _("Search")

    # ---- CSV export: Excel opens it in Chinese, the file says what and when ---------------
    @expose("/export/<export_type>/")
    def export(self, export_type):
        response = super().export(export_type)
        if export_type != "csv" or response.status_code != 200:
            return response
        # without a byte-order mark Excel reads UTF-8 as the local code page and garbles Chinese
        response.response = itertools.chain([CSV_BOM], response.response)
        stamp = to_local(utcnow()).strftime("%Y%m%d-%H%M")
        ascii_name = f"{self.endpoint}_{stamp}.csv"
        local_name = f"{self.name}_{stamp}.csv"
        response.headers["Content-Disposition"] = (
            f'attachment; filename="{ascii_name}"; filename*=UTF-8\'\'{quote(local_name)}')
        return response

    # ---- changes: one transaction, audited, domain errors shown --------------------------
    def create_model(self, form):
        if not hasattr(self, "create_record"):
            return self._change(form, None)
        try:  # the record's own operation creates it (and audits it), not populate_obj + save
            model = self.create_record(form)
        except DomainError as exc:
            self.handle_view_exception(exc, form)
            return False
        self.after_model_change(form, model, True)
        return model

    def update_model(self, form, model):
        return bool(self._change(form, model))

    def _change(self, form, model):
        is_created = model is None
        try:
            with db.atomic():
                before = None if is_created else audit.snapshot(
                    self.model.get_by_id(model._pk))
                model = model if model is not None else self.model()
                form.populate_obj(model)
                self.on_model_change(form, model, is_created)
                model.save(force_insert=is_created)
                self.after_save(form, model, is_created)
                audit.record("create" if is_created else "update", model, before,
                             audit.snapshot(model))
                if self.rbac_sensitive:
                    rbac.bump()
        except DomainError as exc:
            self.handle_view_exception(exc, form)
            return False
        self.after_model_change(form, model, is_created)
        return model

    def after_save(self, form, model, is_created):
        """Inside the transaction, after the row is saved: link tables, derived fields."""

    def delete_model(self, model):
        try:
            with db.atomic():
                before = audit.snapshot(model)
                self.on_model_delete(model)
                model.delete_instance()
                audit.record("delete", model, before, None)
                if self.rbac_sensitive:
                    rbac.bump()
        except DomainError as exc:
            self.handle_view_exception(exc)
            return False
        except Exception as exc:  # e.g. a foreign key still points here
            flash(_("Cannot delete %(name)s: other records still use it (%(error)s).",
                    name=str(model), error=str(exc)), "error")
            return False
        self.after_model_delete(model)
        return True

    @action("delete", _l("Delete"), _l("Are you sure you want to delete selected records?"))
    def action_delete(self, ids):
        deleted = 0
        for model in self.get_query().where(self.model._meta.primary_key.in_(ids)):
            deleted += bool(self.delete_model(model))
        if deleted:
            flash(_("%(count)s records were deleted.", count=deleted), "success")


class ReadOnlyView(ConsoleModelView):
    can_create = False
    can_edit = False
    can_delete = False


class ConsoleIndexView(AdminIndexView):
    """The landing page: open to every signed-in staff member."""

    def is_accessible(self):
        return current_user.is_authenticated

    def is_visible(self):
        return False

    def _handle_view(self, name, **kwargs):
        if not current_user.is_authenticated:
            return redirect(url_for("security.login", next=request.full_path))
        return None
