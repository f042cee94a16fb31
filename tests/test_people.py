"""People operations and pages: VIP and loyalty points, vehicles, licence points and refusals,
supplier certification, reviews and derived stars, search, detail pages and data scope."""
import datetime as dt
import io
import re

import pytest
from flask_babel import force_locale

from console import people
from console.common.validators import InvalidValue, validate_plate, validate_vin
from console.db import utcnow
from console.models import (
    AuditLog,
    Butler,
    CarModel,
    CertificationEvent,
    Customer,
    LicencePointDeduction,
    LoyaltyPointEntry,
    Organization,
    Outbox,
    RefusalCountChange,
    Review,
    Supplier,
    User,
    Vehicle,
)
from console.people.demo import demo_pdf
from console.system import rbac, users
from tests.conftest import PASSWORD

VIN = "LSVAM4187C2184847"


@pytest.fixture
def app_config(tmp_path):
    return {"CONSOLE_LOGIN_CAPTCHA": False, "CONSOLE_UPLOAD_DIR": str(tmp_path / "uploads")}


@pytest.fixture(autouse=True)
def in_english(app):
    """Operations run as in a request whose user reads English (messages are compared)."""
    with app.test_request_context(), force_locale("en"):
        yield


def list_rows(response):
    """The rows of a list page's table (the page elsewhere repeats the URL and search)."""
    page = response.get_data(as_text=True)
    start = page.index("</thead>", page.index("model-list"))
    return page[start:page.index("</table>", start)]


def org(code):
    return Organization.get(Organization.code == code)


def user(email):
    return User.get(User.email == email)


@pytest.fixture
def admin():
    return user("admin@demo.local")


@pytest.fixture
def butler(admin):
    return people.register_butler("测试总管", "13912340001", org("BJ-BUTLERS"), actor=admin)


@pytest.fixture
def customer(admin):
    return people.register_customer("王小明", "13912340002", org("BJ"), actor=admin)


def new_supplier(app, code="BJ900", city="BJ", documents=1):
    supplier = people.create_supplier(code, f"{code} 测试汽修", org(city),
                                      ["maintenance", "parts"])
    for number in range(documents):
        people.add_supplier_document(
            supplier, f"营业执照 {number}", io.BytesIO(demo_pdf(code)), "licence.pdf",
            upload_dir=app.config["CONSOLE_UPLOAD_DIR"], max_bytes=1024 * 1024)
    return supplier


# ---- customers, VIP, loyalty points, vehicles ---------------------------------------
def test_a_registered_customer_gets_an_app_login_with_the_customer_role(customer):
    account = User.get_by_id(customer.user_id)
    assert account.phone == "13912340002"
    assert [link.role.name for link in account.roles] == ["customer"]
    assert customer.name_pinyin == "wangxiaoming wxm"


def test_registering_a_customer_with_a_bad_or_taken_mobile_changes_nothing(app, customer):
    users = User.select().count()
    for mobile, reason in (("1391234000", "11 digits"), ("13912340002", "already")):
        with pytest.raises(InvalidValue) as error:
            people.register_customer("李雷", mobile, org("SH"))
        assert error.value.field == "mobile" and reason in error.value.message
    assert User.select().count() == users


def test_vip_status_has_an_end_date_and_is_audited(customer, admin):
    until = utcnow() + dt.timedelta(days=30)
    people.set_vip(customer, until, admin, "bought a VIP year")
    assert Customer.get_by_id(customer.id).is_vip()
    assert not Customer.get_by_id(customer.id).is_vip(now=until + dt.timedelta(seconds=1))
    entry = AuditLog.select().where(AuditLog.action == "set_vip").order_by(AuditLog.id.desc())
    assert entry.first().after["level"] == "vip"
    people.set_vip(customer, None, admin, "refunded")
    assert Customer.get_by_id(customer.id).level == "regular"


def test_loyalty_points_keep_a_history_and_never_go_below_zero(customer, admin):
    people.add_loyalty_points(customer, 300, "order paid", admin, order_no="S1")
    people.add_loyalty_points(customer, -100, "redeemed", admin)
    with pytest.raises(InvalidValue) as error:
        people.add_loyalty_points(customer, -201, "too much", admin)
    assert error.value.field == "loyalty_points"
    entries = list(customer.loyalty_entries.order_by(LoyaltyPointEntry.id))
    assert [(e.delta, e.balance_after) for e in entries] == [(300, 300), (-100, 200)]
    assert Customer.get_by_id(customer.id).loyalty_points == sum(e.delta for e in entries)


def test_a_vehicle_with_a_bad_vin_or_plate_is_refused_and_nothing_is_written(customer):
    model = CarModel.get(CarModel.code == "VW-LAVIDA-2024-15L")
    before = Vehicle.select().count()
    for plate, vin, field in (("京A12345", "LSVAM4186C2184847", "vin"),
                              ("京A1O345", VIN, "plate")):
        with pytest.raises(InvalidValue) as error:
            people.add_vehicle(customer, plate, vin, model)
        assert error.value.field == field
    assert Vehicle.select().count() == before


def test_a_plate_is_unique_among_live_vehicles_and_free_again_once_removed(customer, admin):
    model = CarModel.get(CarModel.code == "BYD-HAN-2024-EV")
    vehicle = people.add_vehicle(customer, "京AD12345", VIN, model)
    with pytest.raises(InvalidValue) as error:
        people.add_vehicle(customer, "京AD12345", "LFV2A21K6E4181230", model)
    assert error.value.field == "plate" and "already registered" in error.value.message
    people.remove_vehicle(vehicle, admin, "sold the car")
    again = people.add_vehicle(customer, "京AD12345", VIN, model)
    assert again.id != vehicle.id and Vehicle.get_by_id(vehicle.id).is_deleted


def test_the_reference_car_models_cover_common_chinese_market_models_with_pinyin():
    assert CarModel.select().count() >= 150
    for brand, series in (("大众", "朗逸"), ("丰田", "RAV4荣放"), ("比亚迪", "秦PLUS"),
                          ("特斯拉", "Model Y"), ("理想", "L9"), ("奔驰", "GLC")):
        assert CarModel.select().where(CarModel.brand == brand, CarModel.series == series).exists()
    byd = CarModel.get(CarModel.code == "BYD-HAN-2024-EV")
    assert (byd.brand_pinyin, byd.series_pinyin, byd.displacement) == ("biyadi", "han", "电动")


def test_the_people_demo_invents_no_reviews_and_everyone_starts_unrated():
    assert not Review.select().exists()  # reviews come with the demo orders they cite
    demo_butler = Butler.get(Butler.mobile == "13800000008")
    assert (demo_butler.review_count, demo_butler.orders_served) == (0, 0)
    assert demo_butler.stars == people.star_rating(0, 0)


def test_a_vehicle_is_removed_from_its_page_with_a_reason(client, login_as, form_token,
                                                         customer):
    model = CarModel.get(CarModel.code == "VW-LAVIDA-2024-15L")
    vehicle = people.add_vehicle(customer, "京A12345", VIN, model)
    login_as("service")
    url = f"/admin/vehicles/details/?id={vehicle.id}"
    assert 'id="remove-form"' in client.get(url).get_data(as_text=True)
    response = client.post("/admin/vehicles/remove/", data={
        "id": vehicle.id, "reason": "车辆已出售", "csrf_token": form_token(url)})
    assert response.status_code == 302 and Vehicle.get_by_id(vehicle.id).is_deleted
    assert client.get(url).status_code == 404
    audit = AuditLog.get(AuditLog.action == "remove", AuditLog.object_id == str(vehicle.id))
    assert audit.note == "车辆已出售"


def test_every_demo_vehicle_has_a_valid_vin_and_plate():
    vehicles = list(Vehicle.select(Vehicle.plate, Vehicle.vin))
    assert len(vehicles) >= 100
    for vehicle in vehicles:
        assert validate_vin(vehicle.vin) == vehicle.vin
        assert validate_plate(vehicle.plate) == vehicle.plate


# ---- butlers: licence points and refusals ------------------------------------------
def test_deducting_licence_points_to_zero_blocks_work_and_keeps_the_reasons(butler, admin):
    Butler.update(is_online=True).where(Butler.id == butler.id).execute()
    assert people.can_take_work(butler)
    people.deduct_licence_points(butler, 5, "闯红灯", admin)
    people.deduct_licence_points(butler, "7", "超速 50%", admin)
    butler = Butler.get_by_id(butler.id)
    assert butler.licence_points == 0
    assert not people.can_take_work(butler)
    assert butler.id not in {b.id for b in people.eligible_butlers(butler.city_id)}
    history = list(butler.deductions.order_by(LicencePointDeduction.id))
    assert [(d.points, d.balance_after, d.reason, d.actor_id) for d in history] == [
        (5, 7, "闯红灯", admin.id), (7, 0, "超速 50%", admin.id)]
    audited = AuditLog.select().where(AuditLog.action == "deduct_licence_points",
                                      AuditLog.object_id == str(butler.id))
    assert [a.note for a in audited.order_by(AuditLog.id)] == ["闯红灯", "超速 50%"]


@pytest.mark.parametrize("points, reason, field", [
    (13, "x", "points"), (0, "x", "points"), ("two", "x", "points"), (3, " ", "reason"),
])
def test_a_bad_deduction_is_refused_and_changes_nothing(butler, admin, points, reason, field):
    with pytest.raises(InvalidValue) as error:
        people.deduct_licence_points(butler, points, reason, admin)
    assert error.value.field == field
    assert Butler.get_by_id(butler.id).licence_points == 12
    assert not butler.deductions.exists()


def test_more_points_than_are_left_cannot_be_deducted(butler, admin):
    people.deduct_licence_points(butler, 10, "事故", admin)
    with pytest.raises(InvalidValue) as error:
        people.deduct_licence_points(butler, 3, "再次违章", admin)
    assert "only 2" in error.value.message
    people.restore_licence_points(butler, "新记分周期", admin)
    assert Butler.get_by_id(butler.id).licence_points == 12
    assert people.can_take_work(Butler.get_by_id(butler.id))


def test_editing_the_refusal_count_is_recorded_and_audited_with_the_reason(butler, admin):
    people.set_refusal_count(butler, 4, "系统漏记", admin)
    people.set_refusal_count(butler, 1, "申诉成功", admin)
    assert Butler.get_by_id(butler.id).refusal_count == 1
    changes = list(butler.refusal_changes.order_by(RefusalCountChange.id))
    assert [(c.old_count, c.new_count, c.reason) for c in changes] == [
        (0, 4, "系统漏记"), (4, 1, "申诉成功")]
    audit = AuditLog.select().where(AuditLog.action == "set_refusal_count").order_by(
        AuditLog.id.desc()).first()
    assert (audit.before, audit.after, audit.note, audit.actor_id) == (
        {"refusal_count": 4}, {"refusal_count": 1}, "申诉成功", admin.id)
    with pytest.raises(InvalidValue):
        people.set_refusal_count(butler, -1, "负数", admin)
    with pytest.raises(InvalidValue):
        people.set_refusal_count(butler, 3, "", admin)
    assert Butler.get_by_id(butler.id).refusal_count == 1


# ---- reviews and stars -------------------------------------------------------------
def test_stars_are_derived_from_reviews_by_the_documented_formula(butler, customer):
    assert butler.stars == 4.0  # no reviews: the prior
    people.add_review("T0001", butler, "good", 5, "准时", customer)
    assert Butler.get_by_id(butler.id).stars == 4.3  # (3×4 + 5) / 4 = 4.25, half up
    people.add_review("T0002", butler, "complaint", 4, "刮花车漆", customer)
    assert Butler.get_by_id(butler.id).stars == 3.6  # complaint counts 1: (12+5+1)/5
    for number in range(3, 23):
        people.add_review(f"T{number:04d}", butler, "good", 5, "", customer)
    butler = Butler.get_by_id(butler.id)
    assert (butler.stars, butler.review_count) == (4.7, 22)  # (12 + 5×21 + 1) / 25 = 4.72


def test_an_order_has_at_most_one_review_of_its_supplier_and_one_of_its_butler(
        app, butler, customer):
    supplier = new_supplier(app)
    people.add_review("T0100", supplier, "neutral", None, "一般", customer)
    people.add_review("T0100", butler, "good", None, "", customer)
    with pytest.raises(InvalidValue) as error:
        people.add_review("T0100", supplier, "good", 5, "", customer)
    assert error.value.field == "order_no"
    assert Review.select().where(Review.order_no == "T0100").count() == 2
    assert Supplier.get_by_id(supplier.id).stars == 3.8  # (12 + 3) / 4 = 3.75
    with pytest.raises(InvalidValue):
        people.add_review("T0101", butler, "great", 5, "", customer)
    with pytest.raises(InvalidValue):
        people.add_review("T0102", butler, "good", 6, "", customer)


# ---- supplier certification --------------------------------------------------------
MOVES = [(status, action) for status in people.CERTIFICATION_STATUS_NAMES
         for action in people.CERTIFICATION_ACTIONS]


@pytest.mark.parametrize("status, action", MOVES)
def test_every_certification_move_is_allowed_or_refused_by_the_table(app, admin, status,
                                                                     action):
    supplier = new_supplier(app)
    Supplier.update(certification_status=status).where(Supplier.id == supplier.id).execute()
    supplier = Supplier.get_by_id(supplier.id)
    target = people.CERTIFICATION_TRANSITIONS.get((status, action))
    if target is None:
        with pytest.raises(InvalidValue) as error:
            people.certify(supplier, action, admin, "reason")
        assert error.value.field == "certification_status"
        assert Supplier.get_by_id(supplier.id).certification_status == status
        assert not supplier.certification_events.exists()
    else:
        people.certify(supplier, action, admin, "reason")
        assert Supplier.get_by_id(supplier.id).certification_status == target
        event = supplier.certification_events.get()
        assert (event.from_status, event.to_status, event.actor_id) == (status, target, admin.id)


def test_certification_needs_documents_to_submit_and_a_reason_to_reject(app, admin):
    supplier = new_supplier(app, documents=0)
    with pytest.raises(InvalidValue) as error:
        people.certify(supplier, "submit", admin)
    assert error.value.field == "documents"
    supplier = new_supplier(app, code="BJ901")
    people.certify(supplier, "submit", admin)
    with pytest.raises(InvalidValue) as error:
        people.certify(supplier, "reject", admin, "")
    assert error.value.field == "reason"
    people.certify(supplier, "reject", admin, "营业执照已过期")
    assert Supplier.get_by_id(supplier.id).certification_reason == "营业执照已过期"


def test_approved_certificates_expire_on_their_date_after_one_reminder(app, admin):
    supplier = new_supplier(app)
    staff = users.create_user("staff900@demo.local", roles=["supplier_admin"],
                      organization="SUP-BJ900", password=PASSWORD)
    people.certify(supplier, "submit", admin)
    now = utcnow()
    people.certify(supplier, "approve", admin, expires_at=now + dt.timedelta(days=10), now=now)
    first = people.expire_certifications(now)
    assert first["reminded"] >= 1 and Supplier.get_by_id(supplier.id).certification_reminded_at
    assert people.expire_certifications(now) == {"expired": 0, "reminded": 0}
    reminders = Outbox.select().where(Outbox.recipient == staff.email)
    assert reminders.count() == 1 and "certification" in reminders.get().subject
    assert Supplier.get_by_id(supplier.id).certification_status == "approved"
    people.expire_certifications(now + dt.timedelta(days=11))
    assert Supplier.get_by_id(supplier.id).certification_status == "expired"
    assert supplier.certification_events.order_by(CertificationEvent.id.desc()).first().action \
        == "expire"


# ---- pages: search, detail pages, forms --------------------------------------------
def test_customers_are_found_by_name_phone_plate_vin_and_pinyin(client, login_as, customer):
    vehicle = Vehicle.select().join(Customer).where(Customer.id != customer.id).first()
    login_as("service")
    for term in ("王小明", "13912340002", "wangxiaoming", "wxm"):
        page = client.get(f"/admin/customers/?search={term}").get_data(as_text=True)
        assert "13912340002" in page, term
    for term in (vehicle.plate, vehicle.vin[-8:]):
        page = client.get(f"/admin/customers/?search={term}").get_data(as_text=True)
        assert vehicle.customer.mobile in page and "13912340002" not in page


def test_the_customer_page_lists_the_vehicles_and_points_history(client, login_as, customer,
                                                                 admin):
    model = CarModel.get(CarModel.code == "TESLA-MODEL3-2024-EV")
    people.add_vehicle(customer, "京AD12345", VIN, model)
    people.add_loyalty_points(customer, 88, "首单奖励", admin)
    login_as("service")
    page = client.get(f"/admin/customers/details/?id={customer.id}").get_data(as_text=True)
    assert "京AD12345" in page and VIN in page and "Model 3" in page
    assert "首单奖励" in page and 'id="vip-form"' in page


def test_licence_points_are_deducted_on_the_butler_page_with_a_reason(
        client, login_as, form_token):
    login_as("dispatcher")
    target = Butler.select().where(Butler.city == org("SH")).first()
    url = f"/admin/butlers/details/?id={target.id}"
    token = form_token(url)
    response = client.post("/admin/butlers/deduct/", data={
        "id": target.id, "points": 2, "reason": "未按时取车", "csrf_token": token})
    assert response.status_code == 302
    assert Butler.get_by_id(target.id).licence_points == target.licence_points - 2
    page = client.get(url).get_data(as_text=True)
    assert "未按时取车" in page
    refused = client.post("/admin/butlers/deduct/", data={
        "id": target.id, "points": 2, "reason": "", "csrf_token": token}, follow_redirects=True)
    assert "Reason: required" in refused.get_data(as_text=True) or "原因：必填" in \
        refused.get_data(as_text=True)
    assert Butler.get_by_id(target.id).licence_points == target.licence_points - 2


def test_a_manager_may_read_butlers_but_not_deduct_points(client, login_as, form_token):
    login_as("manager")
    target = Butler.select().first()
    url = f"/admin/butlers/details/?id={target.id}"
    page = client.get(url).get_data(as_text=True)
    assert 'id="deduct-form"' not in page
    response = client.post("/admin/butlers/deduct/", data={
        "id": target.id, "points": 2, "reason": "x", "csrf_token": form_token(url)})
    assert response.status_code == 403
    assert Butler.get_by_id(target.id).licence_points == target.licence_points


def test_the_platform_approves_a_pending_supplier_and_the_supplier_cannot(
        app, client, login_as, form_token):
    supplier = new_supplier(app)
    people.certify(supplier, "submit", user("admin@demo.local"))
    login_as("platform")
    url = f"/admin/certifications/details/?id={supplier.id}"
    page = client.get(url).get_data(as_text=True)
    assert 'id="approve-form"' in page and "营业执照 0" in page
    response = client.post("/admin/certifications/approve/", data={
        "id": supplier.id, "expires_at": "2099-12-31", "csrf_token": form_token(url)})
    assert response.status_code == 302
    approved = Supplier.get_by_id(supplier.id)
    assert approved.certification_status == "approved"
    assert approved.certification_expires_at.year in (2099, 2100)
    client.post("/logout", data={"csrf_token": form_token("/admin/")})
    login_as("supplier")
    own = Supplier.get(Supplier.code == "SH001")
    response = client.post("/admin/certifications/reject/", data={
        "id": own.id, "reason": "x", "csrf_token": form_token("/admin/")})
    assert response.status_code == 403


# ---- data scope --------------------------------------------------------------------
def test_a_supplier_admin_sees_and_edits_only_their_own_supplier(app, client, login_as,
                                                                 form_token):
    other = new_supplier(app)
    own = Supplier.get(Supplier.code == "SH001")
    login_as("supplier")
    page = client.get("/admin/suppliers/").get_data(as_text=True)
    assert "SH001" in page and "BJ900" not in page
    for path in ("details", "edit"):
        assert client.get(f"/admin/suppliers/{path}/?id={other.id}").status_code == 404
    url = f"/admin/suppliers/edit/?id={own.id}"
    form = client.get(url).get_data(as_text=True)
    assert 'name="contact_name"' in form and 'name="grade"' not in form
    response = client.post(url, data={
        "name": "改名商家", "service_types": ["towing"], "address": "闵行区新地址 1 号",
        "contact_name": "陈刚", "contact_phone": "13800000007", "grade": "A",
        "csrf_token": form_token(url)})
    assert response.status_code == 302
    saved = Supplier.get_by_id(own.id)
    assert saved.address == "闵行区新地址 1 号" and saved.contact_name == "陈刚"
    assert (saved.grade, saved.name, saved.service_types) == (own.grade, own.name,
                                                              own.service_types)
    response = client.post(f"/admin/suppliers/edit/?id={other.id}", data={
        "name": "hijacked", "csrf_token": form_token(url)})
    assert response.status_code == 404
    assert Supplier.get_by_id(other.id).name != "hijacked"


def test_a_supplier_admin_manages_only_their_own_staff(app, client, login_as, form_token):
    new_supplier(app)
    outsider = users.create_user("staff900@demo.local", roles=["supplier_admin"],
                      organization="SUP-BJ900", password=PASSWORD)
    login_as("supplier")
    page = client.get("/admin/supplier_staff/").get_data(as_text=True)
    assert "supplier@demo.local" in page and outsider.email not in page
    assert client.get(f"/admin/supplier_staff/edit/?id={outsider.id}").status_code == 404
    url = "/admin/supplier_staff/new/"
    form = client.get(url).get_data(as_text=True)
    assert f'value="{org("SUP-BJ900").id}"' not in form
    response = client.post(url, data={
        "email": "clerk@sh001.local", "full_name": "前台 小李", "phone": "13912340009",
        "organization": str(org("SUP-SH001").id), "active": "y", "new_password": "Clerk@2026",
        "csrf_token": form_token(url)})
    assert response.status_code == 302
    clerk = user("clerk@sh001.local")
    assert clerk.organization.code == "SUP-SH001"
    assert [link.role.name for link in clerk.roles] == ["supplier_admin"]


def test_a_city_dispatcher_sees_only_their_citys_butlers(app, client, login_as, admin):
    bj = people.register_butler("北京总管", "13912340011", org("BJ-BUTLERS"), actor=admin)
    sh = people.register_butler("上海总管", "13912340012", org("SH-BUTLERS"), actor=admin)
    dispatcher = user("dispatcher@demo.local")
    visible = rbac.scoped(Butler.select(), Butler, dispatcher)
    assert {b.city.code for b in visible} == {"SH"}
    assert visible.count() == Butler.select().where(Butler.city == org("SH")).count()
    login_as("dispatcher")
    page = client.get("/admin/butlers/").get_data(as_text=True)
    shown = {b.mobile for b in Butler.select() if b.mobile in page}
    assert shown and all(Butler.get(Butler.mobile == m).city_id == org("SH").id for m in shown)
    assert "13912340011" not in list_rows(client.get("/admin/butlers/?search=13912340011"))
    assert "13912340012" in list_rows(client.get("/admin/butlers/?search=13912340012"))
    assert client.get(f"/admin/butlers/details/?id={bj.id}").status_code == 404
    assert client.get(f"/admin/butlers/details/?id={sh.id}").status_code == 200
    assert client.get("/admin/customers/").status_code == 403


def test_supplier_documents_are_counted_on_the_review_queue(app, client, login_as):
    supplier = new_supplier(app, documents=2)
    people.certify(supplier, "submit", user("admin@demo.local"))
    login_as("platform")
    queue = list_rows(client.get("/admin/certifications/"))
    kinds = re.findall(r'badge badge-(\w+)', queue)
    assert kinds[0] == "warning"  # pending review comes first: it is the work waiting here
    assert kinds == sorted(kinds, key=lambda kind: kind != "warning")
    row = list_rows(client.get("/admin/certifications/?search=BJ900"))
    assert "BJ900" in row and re.search(r">\s*2\s*</td>", row)
