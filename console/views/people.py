"""People pages: customers (VIP, loyalty points), vehicles, butlers (licence points, refusals),
reviews and car models. Suppliers, certification, supplier staff and guarded file downloads
are in people_suppliers; `register` adds both."""
from flask import abort, flash, g, has_request_context, redirect, request, url_for
from flask_admin import expose
from flask_admin.contrib.peewee import filters
from flask_admin.model import typefmt
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup
from peewee import fn
from wtforms import FileField, PasswordField
from wtforms.validators import Optional

from console import people
from console.common.clock import local_time, parse_local_date_end
from console.common.validators import InvalidValue
from console.config import setting
from console.models import (
    Butler,
    CarModel,
    Customer,
    LicencePointDeduction,
    LoyaltyPointEntry,
    Organization,
    RefusalCountChange,
    Review,
    Vehicle,
)
from console.orders.types import ORDER_TYPE_LABELS
from console.people import uploads
from console.system import rbac
from console.views.base import LOCAL_TIMES, ConsoleModelView, ReadOnlyView
from console.views.labels import LABELS, localized

CATEGORY = _l("People")
LEVEL_LABELS = {"regular": _l("Regular"), "vip": _l("VIP")}
BUTLER_STATUS_LABELS = {"active": _l("On duty"), "suspended": _l("Suspended"), "left": _l("Left")}
RATING_LABELS = {"good": _l("Good"), "neutral": _l("Neutral"), "bad": _l("Bad"),
                 "complaint": _l("Complaint")}
REVIEW_TARGET_LABELS = {"supplier": _l("Supplier"), "butler": _l("Butler")}
RATING_BADGES = {"good": "success", "neutral": "secondary", "bad": "warning",
                 "complaint": "danger"}
PEOPLE_LABELS = dict(
    LABELS, name=_l("Full name"), mobile=_l("Mobile"), level=_l("Level"), vip_until=_l("VIP until"),
    loyalty_points=_l("Loyalty points"), organization=_l("City"), city=_l("City"),
    name_pinyin=_l("Pinyin"), plate=_l("Plate"), vin=_l("VIN"), car_model=_l("Car model"),
    customer=_l("Customer"), purchase_year=_l("Purchase year"), mileage_km=_l("Mileage (km)"),
    driving_licence=_l("Driving licence photo"), vehicle_licence=_l("Vehicle licence photo"),
    is_online=_l("Online"), last_seen_at=_l("Last seen"), last_lat=_l("Latitude"),
    last_lng=_l("Longitude"), licence_points=_l("Licence points"),
    refusal_count=_l("Refusals"), stars=_l("Stars"), review_count=_l("Reviews"),
    orders_served=_l("Orders served"), order_no=_l("Order number"),
    target_kind=_l("Reviewed party type"), target=_l("Reviewed party"), rating=_l("Rating"),
    text=_l("Review text"), brand=_l("Brand"), brand_pinyin=_l("Brand pinyin"),
    series=_l("Series"), series_pinyin=_l("Series pinyin"), year_style=_l("Year style"),
    displacement=_l("Displacement"), vehicle_count=_l("Vehicles"), password=_l("Password"),
    driving_licence_upload=_l("Driving licence photo"),
    vehicle_licence_upload=_l("Vehicle licence photo"), user=_l("Login account"),
)


def badge(text, kind="secondary"):
    return Markup('<span class="badge badge-%s">%s</span>') % (kind, text)


def stars_text(value, count):
    return Markup('<span title="%s">★ %.1f</span> <small class="text-muted">(%d)</small>') % (
        _("Derived from %(count)d reviews", count=count), value, count)


def org_name(org):
    return localized(org.name, org.name_en) if org else ""


def _city_options():
    if not has_request_context():  # views are built before the database may exist
        return []
    return [(str(o.id), org_name(o)) for o in Organization.select().where(
        Organization.kind == "city").order_by(Organization.sort, Organization.id)]


def city_filter(field, label):
    """A filter on a city FK, offering the city organizations by name."""
    return filters.FilterEqual(field, label, options=_city_options)


class LiveFilterOptionsMixin:
    """Flask-Admin computes filter options once at start-up; cities come from the database
    and names from the page's language, so they are computed for each page instead."""

    def _get_filter_groups(self):
        self._refresh_filters_cache()
        return super()._get_filter_groups()


class PeopleSearchMixin:
    """Search that may look through related rows (a customer by plate or VIN): the typed
    words narrow `get_query`, each word matching any of `search_condition`'s columns."""

    column_searchable_list = ["name"]  # shows the search box; the search itself is below

    def init_search(self):
        return True

    search_hint = _l("Search")

    def search_condition(self, like):
        raise NotImplementedError

    def search_placeholder(self):
        return str(self.search_hint)

    def get_list(self, page, sort_column, sort_desc, search, filters, execute=True,
                 page_size=None):
        g.people_search = search
        try:
            return super().get_list(page, sort_column, sort_desc, None, filters, execute,
                                    page_size)
        finally:
            g.people_search = None

    def get_query(self):
        query = super().get_query()
        for word in (g.get("people_search") or "").split():
            like = "%" + word.replace("\\", "").replace("%", "").replace("_", "") + "%"
            query = query.where(self.search_condition(like))
        return query


def _yes_no(view, value, name):
    return Markup('<i class="fa %s" title="%s"></i>') % (
        ("fa-check-circle text-success", _("Yes")) if value else
        ("fa-minus-circle text-muted", _("No")))


class DetailFormsMixin:
    """POST forms on a detail page, each guarded by its element resource."""

    column_type_formatters = {**LOCAL_TIMES, **typefmt.BASE_FORMATTERS, bool: _yes_no}
    column_type_formatters_detail = {**LOCAL_TIMES, **typefmt.DETAIL_FORMATTERS, bool: _yes_no,
                                     float: lambda view, value, name: f"{value:.5f}"}

    def view_elements(self):
        return {f"{name}_view": name for name in self.elements}

    def _target(self):
        return self.get_one(request.form.get("id", "")) or abort(404)

    def _done(self, model, message=None, error=None):
        if error is not None:
            flash(error.message, "error")
        elif message:
            flash(message, "success")
        return redirect(url_for(".details_view", id=model.id))


def order_labels():
    """Order type and state names from the orders area, when it is installed."""
    try:
        from console.orders import states as order_states
    except ImportError:
        return {"types": {}, "states": {}, "endpoint": None}
    return {"types": ORDER_TYPE_LABELS, "states": order_states.STATE_LABELS,
            "endpoint": "orders.detail"}


def _restrict(form, field, *conditions):
    if field in form:
        query = form[field].query
        for condition in conditions:
            query = query.where(condition)
        form[field].query = query
    return form


# ---- customers -------------------------------------------------------------------------
class CustomerView(LiveFilterOptionsMixin, PeopleSearchMixin, DetailFormsMixin, ConsoleModelView):
    column_list = ["name", "mobile", "level", "vip_until", "loyalty_points", "organization",
                   "vehicle_count", "created_at"]
    column_sortable_list = ["name", "mobile", "level", "vip_until", "loyalty_points",
                            "created_at"]
    column_default_sort = ("created_at", True)
    column_labels = PEOPLE_LABELS
    column_filters = ["level", "vip_until", "loyalty_points", "created_at",
                      city_filter(Customer.organization, _l("City"))]
    column_choices = {"level": list(LEVEL_LABELS.items())}
    column_details_list = ["name", "mobile", "level", "vip_until", "loyalty_points",
                           "organization", "user", "created_at"]
    column_formatters = {
        "level": lambda v, c, m, n: badge(LEVEL_LABELS[m.level], "warning")
        if m.is_vip() else LEVEL_LABELS["regular"],
        "vip_until": lambda v, c, m, n: local_time(m.vip_until),
        "created_at": lambda v, c, m, n: local_time(m.created_at),
        "organization": lambda v, c, m, n: org_name(m.organization),
        "user": lambda v, c, m, n: m.user.email,
        "vehicle_count": lambda v, c, m, n: m.vehicle_count,
    }
    column_export_list = ["name", "mobile", "level", "vip_until", "loyalty_points",
                          "organization", "created_at"]
    column_formatters_export = {
        "level": lambda v, c, m, n: str(LEVEL_LABELS[m.level]),
        "vip_until": column_formatters["vip_until"],
        "created_at": column_formatters["created_at"],
        "organization": column_formatters["organization"],
    }
    can_export = True
    form_columns = ["name", "mobile", "organization"]
    form_extra_fields = {"password": PasswordField(
        _l("Password"), validators=[Optional()],
        description=_l("For the app login; leave empty to let the customer set it by SMS."))}
    details_template = "people/customer_details.html"
    elements = {"vip": _l("Set VIP"), "points": _l("Adjust loyalty points")}
    search_hint = _l("Name, mobile, plate, VIN or pinyin")

    def search_condition(self, like):
        plates = Vehicle.select(Vehicle.customer).where(
            Vehicle.is_deleted == False, (Vehicle.plate ** like) | (Vehicle.vin ** like))  # noqa: E712,E501
        return ((Customer.name ** like) | (Customer.mobile ** like)
                | (Customer.name_pinyin ** like) | Customer.id.in_(plates))

    def get_query(self):
        vehicles = Vehicle.select(fn.COUNT(Vehicle.id)).where(
            Vehicle.customer == Customer.id, Vehicle.is_deleted == False)  # noqa: E712
        return super().get_query().select_extend(vehicles.alias("vehicle_count")).where(
            Customer.is_deleted == False)  # noqa: E712

    def create_form(self, obj=None):
        return _restrict(super().create_form(obj), "organization", Organization.kind == "city")

    def edit_form(self, obj=None):
        form = _restrict(super().edit_form(obj), "organization", Organization.kind == "city")
        del form.password
        return form

    def on_model_change(self, form, model, is_created):
        if is_created:
            people.open_customer_account(model, form.password.data or None)
        else:
            people.check_customer(model)

    # ---- the detail page ----------------------------------------------------------------
    def related(self, customer):
        orders = getattr(customer, "orders", None)
        return {
            "order_labels": order_labels(),
            "vehicles": list(customer.vehicles.where(Vehicle.is_deleted == False)  # noqa: E712
                             .order_by(Vehicle.id)),
            "points": list(customer.loyalty_entries.order_by(LoyaltyPointEntry.id.desc())
                           .limit(20)),
            "orders": list(orders.order_by(orders.model.id.desc()).limit(10))
            if orders is not None else [],
        }

    def may_open_orders(self):
        return rbac.can(current_user, "orders")

    @expose("/vip/", methods=["POST"])
    def vip_view(self):
        customer = self._target()
        until = request.form.get("vip_until", "").strip()
        try:
            end = parse_local_date_end(until, "vip_until", _("VIP until")) if until else None
            people.set_vip(customer, end, current_user._get_current_object(),
                           request.form.get("reason", ""))
        except InvalidValue as exc:
            return self._done(customer, error=exc)
        return self._done(customer, _("%(name)s is now %(level)s.", name=customer.name,
                                      level=LEVEL_LABELS[customer.level]))

    @expose("/points/", methods=["POST"])
    def points_view(self):
        customer = self._target()
        try:
            delta = people.whole_number(request.form.get("delta"), "delta", _("Loyalty points"),
                                        -10 ** 7, 10 ** 7)
            people.add_loyalty_points(customer, delta, request.form.get("reason", ""),
                                      current_user._get_current_object())
        except InvalidValue as exc:
            return self._done(customer, error=exc)
        return self._done(customer, _("Loyalty points are now %(points)d.",
                                      points=customer.loyalty_points))


# ---- vehicles --------------------------------------------------------------------------
def _photo_link(uploaded_id):
    if not uploaded_id:
        return ""
    return Markup('<a href="%s" target="_blank"><i class="fa fa-file-image-o"></i> %s</a>') % (
        url_for("people_files.download", file_id=uploaded_id), _("View"))


class VehicleView(PeopleSearchMixin, DetailFormsMixin, ConsoleModelView):
    column_list = ["plate", "vin", "customer", "car_model", "purchase_year", "mileage_km",
                   "driving_licence", "vehicle_licence"]
    column_sortable_list = ["plate", "vin", "purchase_year", "mileage_km"]
    column_default_sort = ("id", True)
    column_labels = PEOPLE_LABELS
    column_filters = ["purchase_year", "mileage_km", CarModel.brand, CarModel.displacement]
    column_formatters = {
        "customer": lambda v, c, m, n: Markup('<a href="%s">%s</a>') % (
            url_for("customers.details_view", id=m.customer_id), m.customer.name)
        if current_user.is_authenticated and VehicleView.may_see_customers() else
        m.customer.name,
        "driving_licence": lambda v, c, m, n: _photo_link(m.driving_licence_id),
        "vehicle_licence": lambda v, c, m, n: _photo_link(m.vehicle_licence_id),
        "created_at": lambda v, c, m, n: local_time(m.created_at),
    }
    form_columns = ["customer", "plate", "vin", "car_model", "purchase_year", "mileage_km"]
    form_extra_fields = {
        "driving_licence_upload": FileField(_l("Driving licence photo"),
                                            description=_l("JPEG, PNG or PDF, at most 5 MB")),
        "vehicle_licence_upload": FileField(_l("Vehicle licence photo"),
                                            description=_l("JPEG, PNG or PDF, at most 5 MB")),
    }
    form_ajax_refs = {"customer": {"fields": ["name", "mobile"], "page_size": 10},
                      "car_model": {"fields": ["brand", "series", "brand_pinyin",
                                               "series_pinyin", "code"], "page_size": 20}}
    column_details_list = ["plate", "vin", "customer", "car_model", "purchase_year",
                           "mileage_km", "driving_licence", "vehicle_licence", "created_at"]
    details_template = "people/vehicle_details.html"
    elements = {"remove": _l("Remove vehicle")}
    search_hint = _l("Plate, VIN, owner or car model")

    @staticmethod
    def may_see_customers():
        return rbac.can(current_user, "customers")

    def search_condition(self, like):
        owners = Customer.select(Customer.id).where(
            (Customer.name ** like) | (Customer.mobile ** like) | (Customer.name_pinyin ** like))
        models = CarModel.select(CarModel.id).where(
            (CarModel.brand ** like) | (CarModel.series ** like)
            | (CarModel.brand_pinyin ** like) | (CarModel.series_pinyin ** like))
        return ((Vehicle.plate ** like) | (Vehicle.vin ** like) | Vehicle.customer.in_(owners)
                | Vehicle.car_model.in_(models))

    def get_query(self):
        return super().get_query().where(Vehicle.is_deleted == False)  # noqa: E712

    def on_model_change(self, form, model, is_created):
        people.check_vehicle(model)

    def after_save(self, form, model, is_created):
        for field in ("driving_licence", "vehicle_licence"):
            upload = form[f"{field}_upload"].data
            if not getattr(upload, "filename", ""):
                continue
            stored = uploads.store(
                upload.stream, upload.filename, upload_dir=setting("CONSOLE_UPLOAD_DIR"),
                max_bytes=setting("CONSOLE_UPLOAD_MAX_BYTES"), field=f"{field}_upload",
                label=PEOPLE_LABELS[field], owner_type="vehicle", owner_id=model.id,
                organization=model.organization_id, user=current_user._get_current_object())
            Vehicle.update(**{field: stored.id}).where(Vehicle.id == model.id).execute()
            setattr(model, field, stored.id)

    @expose("/remove/", methods=["POST"])
    def remove_view(self):
        vehicle = self._target()
        try:
            people.remove_vehicle(vehicle, current_user._get_current_object(),
                                  request.form.get("reason", ""))
        except InvalidValue as exc:
            return self._done(vehicle, error=exc)
        flash(_("Vehicle %(plate)s was removed.", plate=vehicle.plate), "success")
        return redirect(url_for(".index_view"))


# ---- butlers ---------------------------------------------------------------------------
class ButlerView(LiveFilterOptionsMixin, PeopleSearchMixin, DetailFormsMixin, ConsoleModelView):
    column_list = ["name", "mobile", "organization", "status", "is_online", "licence_points",
                   "refusal_count", "stars", "orders_served", "last_seen_at"]
    column_sortable_list = ["name", "status", "licence_points", "refusal_count", "stars",
                            "orders_served", "last_seen_at"]
    column_default_sort = ("id", False)
    column_labels = dict(PEOPLE_LABELS, organization=_l("Team"))
    column_filters = ["status", "is_online", "licence_points", "refusal_count", "stars",
                      city_filter(Butler.city, _l("City"))]
    column_choices = {"status": list(BUTLER_STATUS_LABELS.items())}
    column_details_list = ["name", "mobile", "organization", "city", "status", "is_online",
                           "last_lat", "last_lng", "last_seen_at", "licence_points",
                           "refusal_count", "stars", "orders_served", "created_at"]
    column_formatters = {
        "organization": lambda v, c, m, n: org_name(m.organization),
        "city": lambda v, c, m, n: org_name(m.city),
        "status": lambda v, c, m, n: badge(BUTLER_STATUS_LABELS[m.status], {
            "active": "success", "suspended": "warning", "left": "secondary"}[m.status]),
        "licence_points": lambda v, c, m, n: badge(m.licence_points, "danger")
        if m.licence_points == 0 else m.licence_points,
        "stars": lambda v, c, m, n: stars_text(m.stars, m.review_count),
        "last_seen_at": lambda v, c, m, n: local_time(m.last_seen_at),
        "created_at": lambda v, c, m, n: local_time(m.created_at),
    }
    column_export_list = ["name", "mobile", "organization", "status", "licence_points",
                          "refusal_count", "stars", "review_count", "orders_served"]
    column_formatters_export = {
        "organization": column_formatters["organization"],
        "status": lambda v, c, m, n: str(BUTLER_STATUS_LABELS[m.status]),
    }
    can_export = True
    form_columns = ["name", "mobile", "organization", "status"]
    form_choices = {"status": list(BUTLER_STATUS_LABELS.items())}
    form_extra_fields = {"password": PasswordField(
        _l("Password"), validators=[Optional()],
        description=_l("For the app login; leave empty to let the butler set it by SMS."))}
    details_template = "people/butler_details.html"
    elements = {"deduct": _l("Deduct licence points"),
                "restore": _l("Restore licence points"),
                "refusals": _l("Correct the refusal count")}
    search_hint = _l("Name, mobile or pinyin")

    def search_condition(self, like):
        return (Butler.name ** like) | (Butler.mobile ** like) | (Butler.name_pinyin ** like)

    def create_form(self, obj=None):
        return _restrict(super().create_form(obj), "organization", Organization.kind == "team")

    def edit_form(self, obj=None):
        form = _restrict(super().edit_form(obj), "organization", Organization.kind == "team")
        del form.password
        return form

    def on_model_change(self, form, model, is_created):
        if is_created:
            people.open_butler_account(model, form.password.data or None)
        else:
            people.check_butler(model)

    def related(self, butler):
        return {
            "deductions": list(butler.deductions.order_by(LicencePointDeduction.id.desc())),
            "refusal_changes": list(butler.refusal_changes.order_by(
                RefusalCountChange.id.desc())),
            "reviews": list(butler.reviews.order_by(Review.created_at.desc()).limit(20)),
            "can_take_work": people.can_take_work(butler),
        }

    @expose("/deduct/", methods=["POST"])
    def deduct_view(self):
        butler = self._target()
        try:
            people.deduct_licence_points(butler, request.form.get("points"),
                                         request.form.get("reason", ""),
                                         current_user._get_current_object())
        except InvalidValue as exc:
            return self._done(butler, error=exc)
        return self._done(butler, _("%(name)s now has %(points)d licence points.",
                                    name=butler.name, points=butler.licence_points))

    @expose("/restore/", methods=["POST"])
    def restore_view(self):
        butler = self._target()
        try:
            people.restore_licence_points(butler, request.form.get("reason", ""),
                                          current_user._get_current_object())
        except InvalidValue as exc:
            return self._done(butler, error=exc)
        return self._done(butler, _("%(name)s now has %(points)d licence points.",
                                    name=butler.name, points=butler.licence_points))

    @expose("/refusals/", methods=["POST"])
    def refusals_view(self):
        butler = self._target()
        try:
            people.set_refusal_count(butler, request.form.get("refusal_count"),
                                     request.form.get("reason", ""),
                                     current_user._get_current_object())
        except InvalidValue as exc:
            return self._done(butler, error=exc)
        return self._done(butler, _("The refusal count of %(name)s is now %(count)d.",
                                    name=butler.name, count=butler.refusal_count))


# ---- reviews and car models ------------------------------------------------------------
def _review_target(review):
    if review.target_kind == "butler" and review.butler_id:
        return review.butler.name
    return review.supplier.name if review.supplier_id else ""


class ReviewView(ReadOnlyView):
    column_list = ["created_at", "order_no", "target_kind", "target", "customer", "rating",
                   "stars", "text"]
    column_sortable_list = ["created_at", "order_no", "rating", "stars"]
    column_default_sort = ("created_at", True)
    column_searchable_list = ["order_no", "text"]
    column_details_list = column_list
    column_filters = ["target_kind", "rating", "stars", "created_at"]
    column_choices = {"rating": list(RATING_LABELS.items()),
                      "target_kind": list(REVIEW_TARGET_LABELS.items())}
    column_labels = PEOPLE_LABELS
    column_formatters = {
        "created_at": lambda v, c, m, n: local_time(m.created_at),
        "target_kind": lambda v, c, m, n: REVIEW_TARGET_LABELS[m.target_kind],
        "target": lambda v, c, m, n: _review_target(m),
        "customer": lambda v, c, m, n: m.customer.name if m.customer_id else "",
        "rating": lambda v, c, m, n: badge(RATING_LABELS[m.rating], RATING_BADGES[m.rating]),
    }
    column_formatters_export = {
        "created_at": column_formatters["created_at"],
        "target_kind": lambda v, c, m, n: str(REVIEW_TARGET_LABELS[m.target_kind]),
        "target": column_formatters["target"], "customer": column_formatters["customer"],
        "rating": lambda v, c, m, n: str(RATING_LABELS[m.rating]),
    }
    can_export = True


class CarModelView(ConsoleModelView):
    column_list = ["code", "brand", "series", "year_style", "displacement", "is_active"]
    column_default_sort = "code"
    column_searchable_list = ["code", "brand", "brand_pinyin", "series", "series_pinyin"]
    column_filters = ["brand", "series", "year_style", "displacement", "is_active"]
    column_labels = PEOPLE_LABELS
    form_columns = ["code", "brand", "brand_pinyin", "series", "series_pinyin", "year_style",
                    "displacement", "is_active"]
    can_export = True
    page_size = 50

    def on_model_change(self, form, model, is_created):
        people.check_car_model(model)


def register(admin):
    from console.views import people_suppliers
    admin.add_view(CustomerView(Customer, name=_l("Customers"), category=CATEGORY,
                                endpoint="customers"))
    admin.add_view(VehicleView(Vehicle, name=_l("Vehicles"), category=CATEGORY,
                               endpoint="vehicles"))
    admin.add_view(ButlerView(Butler, name=_l("Butlers"), category=CATEGORY,
                              endpoint="butlers"))
    people_suppliers.register(admin, CATEGORY)
    admin.add_view(ReviewView(Review, name=_l("Reviews"), category=CATEGORY,
                              endpoint="reviews"))
    admin.add_view(CarModelView(CarModel, name=_l("Car models"), category=CATEGORY,
                                endpoint="car_models"))

