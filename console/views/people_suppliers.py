"""Supplier pages: suppliers (attributes, documents), the platform's certification review,
supplier staff accounts, and the guarded download of uploaded files."""
import datetime as dt

from flask import Blueprint, abort, redirect, request, send_file, url_for
from flask_admin import expose
from flask_admin.contrib.peewee import filters
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup
from peewee import Case, fn
from wtforms import PasswordField, SelectMultipleField
from wtforms.validators import Optional

from console import people
from console.common.clock import local_time, parse_local_date_end
from console.common.validators import InvalidValue
from console.config import setting
from console.db import db, utcnow
from console.models import (
    CertificationEvent,
    Organization,
    Review,
    Supplier,
    SupplierDocument,
    UploadedFile,
    User,
)
from console.orders.types import ORDER_TYPE_LABELS, SERVICE_TYPES
from console.people import uploads
from console.system import params, users
from console.views.base import ConsoleModelView, ReadOnlyView
from console.views.people import (
    PEOPLE_LABELS,
    DetailFormsMixin,
    LiveFilterOptionsMixin,
    PeopleSearchMixin,
    badge,
    city_filter,
    org_name,
    stars_text,
)
from console.views.widgets import as_first_password

SERVICE_TYPE_LABELS = {t: ORDER_TYPE_LABELS[t] for t in SERVICE_TYPES}
CERT_BADGES = {"unsubmitted": "secondary", "pending": "warning", "approved": "success",
               "rejected": "danger", "expired": "dark"}
ATTRIBUTES = ("pay_in_7_days", "genuine_parts", "certified_technicians", "priority_service")
# fields only the platform sets: a supplier's own staff edit their contact details only
PLATFORM_FIELDS = ("code", "name", "service_types", "city", "grade", "is_self_operated",
                   "is_active") + ATTRIBUTES
SUPPLIER_LABELS = dict(
    PEOPLE_LABELS, code=_l("Supplier code"), name=_l("Supplier name"),
    service_types=_l("Service types"), address=_l("Address"), lat=_l("Latitude"),
    lng=_l("Longitude"), contact_name=_l("Contact"), contact_phone=_l("Contact phone"),
    grade=_l("Grade"), orders_taken=_l("Orders taken"), pay_in_7_days=_l("Paid within 7 days"),
    genuine_parts=_l("Genuine parts"), certified_technicians=_l("Certified technicians"),
    priority_service=_l("Priority service"), is_self_operated=_l("Self-operated"),
    certification_status=_l("Certification"), certification_reason=_l("Certification note"),
    certified_at=_l("Certified at"), certification_expires_at=_l("Certificate expires"),
    document_count=_l("Documents"), organization=_l("Organization node"),
    is_active=_l("Active"))


def certification_badge(status):
    return badge(people.CERTIFICATION_STATUS_NAMES[status], CERT_BADGES[status])


def service_badges(codes):
    return Markup(" ").join(badge(SERVICE_TYPE_LABELS.get(c, c), "info") for c in codes)


def item_status_names():
    """Review states of service items, from the catalogue area when it is installed."""
    try:
        from console.catalogue import items as catalogue
    except ImportError:
        return {}
    return catalogue.STATUS_LABELS


class ServiceTypeFilter(filters.BasePeeweeFilter):
    def apply(self, query, value):
        return query.where(Supplier.service_types.contains(f",{value},"))

    def operation(self):
        return _l("includes")


SUPPLIER_FORMATTERS = {
    "city": lambda v, c, m, n: org_name(m.city),
    "service_types": lambda v, c, m, n: service_badges(m.service_types),
    "stars": lambda v, c, m, n: stars_text(m.stars, m.review_count),
    "certification_status": lambda v, c, m, n: certification_badge(m.certification_status),
    "certification_expires_at": lambda v, c, m, n: local_time(m.certification_expires_at),
    "certified_at": lambda v, c, m, n: local_time(m.certified_at),
    "created_at": lambda v, c, m, n: local_time(m.created_at),
    "organization": lambda v, c, m, n: m.organization.code,
}


class SupplierView(LiveFilterOptionsMixin, PeopleSearchMixin, DetailFormsMixin, ConsoleModelView):
    column_list = ["code", "name", "city", "service_types", "grade", "stars", "orders_taken",
                   "certification_status", "is_self_operated"]
    column_sortable_list = ["code", "name", "grade", "stars", "orders_taken",
                            "certification_status"]
    column_default_sort = "code"
    column_labels = SUPPLIER_LABELS
    column_filters = ["grade", "certification_status", "is_self_operated", *ATTRIBUTES,
                      "is_active", city_filter(Supplier.city, _l("City")),
                      ServiceTypeFilter(Supplier.service_types, _l("Service types"),
                                        options=list(SERVICE_TYPE_LABELS.items()))]
    column_choices = {"certification_status": list(people.CERTIFICATION_STATUS_NAMES.items())}
    column_details_list = ["code", "name", "city", "service_types", "address", "lat", "lng",
                           "contact_name", "contact_phone", "grade", "stars", "orders_taken",
                           *ATTRIBUTES, "is_self_operated", "certification_status",
                           "certification_reason", "certified_at", "certification_expires_at",
                           "organization", "is_active", "created_at"]
    column_formatters = SUPPLIER_FORMATTERS
    column_export_list = ["code", "name", "city", "service_types", "grade", "stars",
                          "orders_taken", "certification_status", "contact_name",
                          "contact_phone", "address"]
    column_formatters_export = {
        "city": SUPPLIER_FORMATTERS["city"],
        "service_types": lambda v, c, m, n: ", ".join(
            str(SERVICE_TYPE_LABELS[t]) for t in m.service_types if t in SERVICE_TYPE_LABELS),
        "certification_status": lambda v, c, m, n: str(
            people.CERTIFICATION_STATUS_NAMES[m.certification_status]),
    }
    can_export = True
    form_columns = ["code", "name", "city", "address", "lat", "lng", "contact_name",
                    "contact_phone", "grade", *ATTRIBUTES, "is_self_operated", "is_active"]
    form_choices = {"grade": [("A", "A"), ("B", "B"), ("C", "C")]}
    form_extra_fields = {"service_types": SelectMultipleField(
        _l("Service types"), choices=list(SERVICE_TYPE_LABELS.items()))}
    details_template = "people/supplier_details.html"
    elements = {"manage": _l("Set grade, attributes and city"),
                "upload": _l("Upload qualification documents"),
                "submit": _l("Submit for certification")}
    search_hint = _l("Code, name, pinyin or phone")

    def view_elements(self):
        return {"upload_view": "upload", "submit_view": "submit"}

    def search_condition(self, like):
        return ((Supplier.code ** like) | (Supplier.name ** like)
                | (Supplier.name_pinyin ** like) | (Supplier.contact_phone ** like))

    def create_form(self, obj=None):
        form = super().create_form(obj)
        form.city.query = form.city.query.where(Organization.kind == "city")
        return form

    def edit_form(self, obj=None):
        form = super().edit_form(obj)
        del form.code  # the prefix of every service item code: fixed once created
        if not self.allowed("manage"):
            for field in PLATFORM_FIELDS:
                if field in form:
                    delattr(form, field)
        elif "city" in form:
            form.city.query = form.city.query.where(Organization.kind == "city")
        if obj is not None and request.method == "GET" and "service_types" in form:
            form.service_types.data = list(obj.service_types)
        return form

    def on_model_change(self, form, model, is_created):
        if "service_types" in form:
            model.service_types = form.service_types.data or []
        people.check_supplier(model)

    def related(self, supplier):
        items = getattr(supplier, "service_items", None)
        return {
            "documents": list(supplier.documents.where(
                SupplierDocument.is_deleted == False)  # noqa: E712
                .order_by(SupplierDocument.id)),
            "events": list(supplier.certification_events.order_by(CertificationEvent.id.desc())),
            "reviews": list(supplier.reviews.order_by(Review.created_at.desc()).limit(20)),
            "service_items": list(items.order_by(items.model.code).limit(50)) if items is not None
            else [],
            "staff": list(User.select().where(User.organization == supplier.organization_id,
                                              User.is_deleted == False)),  # noqa: E712
            "may_submit": (supplier.certification_status, "submit")
            in people.CERTIFICATION_TRANSITIONS and self.allowed("submit"),
            "cert_badge": certification_badge(supplier.certification_status),
            "cert_names": people.CERTIFICATION_STATUS_NAMES,
            "service_names": SERVICE_TYPE_LABELS,
            "item_status_names": item_status_names(),
        }

    @expose("/upload/", methods=["POST"])
    def upload_view(self):
        supplier = self._target()
        upload = request.files.get("file")
        title = (request.form.get("title") or "").strip()
        try:
            if not title:
                raise InvalidValue("title", _("Document title: required"))
            if upload is None or not upload.filename:
                raise InvalidValue("file", _("File: choose a file to upload"))
            with db.atomic():
                people.add_supplier_document(
                    supplier, title, upload.stream, upload.filename,
                    upload_dir=setting("CONSOLE_UPLOAD_DIR"),
                    max_bytes=setting("CONSOLE_UPLOAD_MAX_BYTES"),
                    actor=current_user._get_current_object())
        except InvalidValue as exc:
            return self._done(supplier, error=exc)
        return self._done(supplier, _("Document %(title)s was uploaded.", title=title))

    @expose("/submit/", methods=["POST"])
    def submit_view(self):
        supplier = self._target()
        try:
            people.certify(supplier, "submit", current_user._get_current_object())
        except InvalidValue as exc:
            return self._done(supplier, error=exc)
        return self._done(supplier, _("Submitted for certification."))


class CertificationView(DetailFormsMixin, ReadOnlyView):
    """The platform's review queue: pending suppliers first, then by expiry date."""
    column_list = ["code", "name", "city", "certification_status", "document_count",
                   "certified_at", "certification_expires_at"]
    column_sortable_list = ["code", "certification_status", "certification_expires_at"]
    column_searchable_list = ["code", "name", "name_pinyin"]
    column_filters = ["certification_status", "certification_expires_at"]
    column_choices = {"certification_status": list(people.CERTIFICATION_STATUS_NAMES.items())}
    column_labels = SUPPLIER_LABELS
    column_formatters = dict(SUPPLIER_FORMATTERS, document_count=lambda v, c, m, n:
                             m.document_count)
    column_details_list = ["code", "name", "city", "certification_status",
                           "certification_reason", "certified_at", "certification_expires_at"]
    details_template = "people/certification_details.html"
    elements = {"approve": _l("Approve certification"), "reject": _l("Reject certification")}

    def get_query(self):
        documents = SupplierDocument.select(fn.COUNT(SupplierDocument.id)).where(
            SupplierDocument.supplier == Supplier.id,
            SupplierDocument.is_deleted == False)  # noqa: E712
        pending_first = Case(None, [(Supplier.certification_status == "pending", 0)], 1)
        return super().get_query().select_extend(documents.alias("document_count")).order_by(
            pending_first, Supplier.certification_expires_at, Supplier.code)


    def related(self, supplier):
        return {"documents": list(supplier.documents.where(
                    SupplierDocument.is_deleted == False)),  # noqa: E712
                "events": list(supplier.certification_events.order_by(
                    CertificationEvent.id.desc())),
                "cert_names": people.CERTIFICATION_STATUS_NAMES,
                "default_expiry": (utcnow() + dt.timedelta(
                    days=params.param("certification.valid_days"))).date().isoformat()}

    @expose("/approve/", methods=["POST"])
    def approve_view(self):
        supplier = self._target()
        try:
            expires = request.form.get("expires_at", "").strip()
            end = parse_local_date_end(expires, "expires_at", _("Certificate expires")) \
                if expires else None
            people.certify(supplier, "approve", current_user._get_current_object(),
                           request.form.get("reason", ""), expires_at=end)
        except InvalidValue as exc:
            return self._done(supplier, error=exc)
        return self._done(supplier, _("Certification of %(name)s approved.",
                                      name=supplier.name))

    @expose("/reject/", methods=["POST"])
    def reject_view(self):
        supplier = self._target()
        try:
            people.certify(supplier, "reject", current_user._get_current_object(),
                           request.form.get("reason", ""))
        except InvalidValue as exc:
            return self._done(supplier, error=exc)
        return self._done(supplier, _("Certification of %(name)s rejected.",
                                      name=supplier.name))


class SupplierStaffView(ConsoleModelView):
    """Accounts of a supplier's staff (role supplier_admin) in the supplier's own node."""
    column_list = ["email", "full_name", "phone", "organization", "active", "last_login_at"]
    column_searchable_list = ["email", "full_name", "phone"]
    column_labels = SUPPLIER_LABELS
    column_formatters = {"organization": lambda v, c, m, n: org_name(m.organization),
                         "last_login_at": lambda v, c, m, n: local_time(m.last_login_at)}
    column_details_list = ["email", "full_name", "phone", "organization", "active",
                           "last_login_at", "created_at"]
    form_columns = ["email", "full_name", "phone", "organization", "active"]
    form_extra_fields = {"new_password": PasswordField(
        _l("New password"), validators=[Optional()],
        description=_l("Leave empty to keep the password."))}

    def get_query(self):
        suppliers = Organization.select(Organization.id).where(Organization.kind == "supplier")
        return super().get_query().where(User.organization.in_(suppliers),
                                         User.is_deleted == False)  # noqa: E712

    def create_form(self, obj=None):
        form = super().create_form(obj)
        form.organization.query = form.organization.query.where(Organization.kind == "supplier")
        as_first_password(form.new_password)
        return form

    def edit_form(self, obj=None):
        form = super().edit_form(obj)
        del form.organization, form.email
        return form

    def create_record(self, form):
        if not form.organization.data:
            raise InvalidValue("organization", _("Supplier: choose the supplier"))
        return users.create_user(
            form.email.data, roles=["supplier_admin"], organization=form.organization.data,
            password=form.new_password.data or "", phone=form.phone.data,
            full_name=form.full_name.data, active=form.active.data)

    def on_model_change(self, form, model, is_created):
        users.check_login_fields(model)
        if form.new_password.data:
            users.set_password(model, form.new_password.data)


# ---- guarded downloads -----------------------------------------------------------------
files = Blueprint("people_files", __name__)


@files.route("/admin/files/<int:file_id>")
def download(file_id):
    """An uploaded file, only for users who may see the record that owns it: others get
    404, as if the file did not exist."""
    if not current_user.is_authenticated:
        return redirect(url_for("security.login", next=request.full_path))
    uploaded = UploadedFile.get_or_none(UploadedFile.id == file_id)
    if uploaded is None or not uploads.may_view(current_user, uploaded):
        abort(404)
    path = uploads.path_of(uploaded, setting("CONSOLE_UPLOAD_DIR"))
    if not path.exists():
        abort(404)
    response = send_file(path, mimetype=uploaded.content_type, download_name=
                         uploaded.original_name or uploaded.stored_name, max_age=0)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response


def register(admin, category):
    admin.add_view(SupplierView(Supplier, name=_l("Suppliers"), category=category,
                                endpoint="suppliers"))
    admin.add_view(CertificationView(Supplier, name=_l("Certification review"),
                                     category=category, endpoint="certifications"))
    admin.add_view(SupplierStaffView(User, name=_l("Supplier staff"), category=category,
                                     endpoint="supplier_staff"))
    if "people_files" not in admin.app.blueprints:
        admin.app.register_blueprint(files)
