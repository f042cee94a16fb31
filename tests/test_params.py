"""Platform parameters (参数设置): one reader resolving the most specific scope in force, typed
and bounded values, effective times that never lie in the past, audited changes, a console page
with a preview before saving, and every worker seeing a change on its next request."""
import datetime as dt
import re

import pytest
from servers import server_env, start_servers
from test_multiprocess import Visitor

from console import orders
from console.db import utcnow
from console.errors import ConflictError, InputError
from console.models import AuditLog, Order, Organization, ParamValue, User
from console.system import params

GRAB = "dispatch.grab_window"


@pytest.fixture
def admin_user(app):
    return User.get(User.email == "admin@demo.local")


def city(code):
    return Organization.get(Organization.code == code)


def test_a_parameter_never_set_reads_its_declared_default(app):
    assert params.param(GRAB) == 10
    assert params.param(GRAB, city=city("SH"), order_type="maintenance") == 10
    assert params.vip_plans() == {1: 3000, 3: 8000, 12: 29800}


def test_city_and_type_beats_city_beats_type_beats_global(app, admin_user):
    sh, bj = city("SH"), city("BJ")
    params.set_value(GRAB, 12, admin_user)
    params.set_value(GRAB, 15, admin_user, order_type="towing")
    params.set_value(GRAB, 20, admin_user, city=sh)
    params.set_value(GRAB, 25, admin_user, city=sh, order_type="maintenance")
    assert params.param(GRAB, city=sh, order_type="maintenance") == 25  # city × type
    assert params.param(GRAB, city=sh, order_type="towing") == 20  # city beats type
    assert params.param(GRAB, city=bj, order_type="towing") == 15  # type beats global
    assert params.param(GRAB, city=bj, order_type="maintenance") == 12  # global
    assert params.param(GRAB) == 12


def test_a_global_only_parameter_cannot_be_set_per_city(app, admin_user):
    with pytest.raises(InputError) as refused:
        params.set_value("membership.vip_price_3", 9000, admin_user, city=city("SH"))
    assert refused.value.field == "scope"
    assert not ParamValue.select().exists()


@pytest.mark.parametrize("key,value,message", [
    (GRAB, 0, "from 1 minutes to 240 minutes"),
    (GRAB, 241, "from 1 minutes to 240 minutes"),
    (GRAB, "12", "a whole number"),
    (GRAB, 12.5, "a whole number"),
    (GRAB, True, "a whole number"),
    ("membership.vip_price_1", 50, "from ¥1.00 to ¥10,000.00"),
])
def test_values_of_the_wrong_type_or_out_of_bounds_are_refused_with_the_reason(
        app, admin_user, key, value, message):
    with pytest.raises(InputError) as refused:
        params.set_value(key, value, admin_user)
    assert refused.value.field == "value" and message in refused.value.message
    assert not ParamValue.select().exists()


def test_typed_input_is_read_in_its_unit(app):
    assert params.declared("membership.vip_price_1").parse("35.50") == 3550  # yuan → fen
    assert params.declared(GRAB).parse(" 12 ") == 12
    for text in ("12.5", "abc", "", "1" * 20):
        with pytest.raises(InputError):
            params.declared(GRAB).parse(text)


def test_a_future_value_applies_only_from_its_time_and_can_be_withdrawn_before(
        app, admin_user):
    now = utcnow()
    later = params.set_value(GRAB, 30, admin_user, effective_from=now + dt.timedelta(hours=2))
    assert params.param(GRAB) == 10
    assert params.param(GRAB, at=now + dt.timedelta(hours=3)) == 30
    params.withdraw(later, admin_user)
    assert params.param(GRAB, at=now + dt.timedelta(hours=3)) == 10
    with pytest.raises(ConflictError):
        params.withdraw(later, admin_user)  # once only


def test_a_value_in_force_cannot_be_withdrawn_and_none_takes_effect_in_the_past(
        app, admin_user):
    current = params.set_value(GRAB, 14, admin_user)
    with pytest.raises(ConflictError):
        params.withdraw(current, admin_user)
    with pytest.raises(InputError) as refused:
        params.set_value(GRAB, 16, admin_user, effective_from=utcnow() - dt.timedelta(days=1))
    assert refused.value.field == "effective_from"
    assert params.param(GRAB) == 14


def test_a_change_is_audited_with_the_value_before_and_after(app, admin_user):
    params.set_value(GRAB, 14, admin_user, city=city("SH"), order_type="maintenance",
                     note="rush hour")
    entry = AuditLog.get(AuditLog.action == "set_param")
    assert (entry.before, entry.after["value"], entry.actor_id, entry.note) == (
        {"value": 10}, 14, admin_user.id, "rush hour")
    assert (entry.object_type, entry.object_id) == ("Param", GRAB)


def test_orders_read_their_grab_window_and_vip_price_from_the_parameters(app, admin_user):
    from order_factories import World
    w = World.build()
    params.set_value(GRAB, 25, admin_user, city=w.customer.organization_id,
                     order_type="towing")
    params.set_value("membership.vip_price_3", 9900, admin_user)
    order = orders.place_order(w.customer, "towing", vehicle=w.vehicle)
    order = Order.get_by_id(order.id)
    assert order.grab_deadline - order.placed_at == dt.timedelta(minutes=25)
    assert orders.place_order(w.customer, "vip", details={"months": 3}).estimate_fen == 9900


def test_slots_opened_without_a_capacity_take_the_city_default(app, admin_user):
    from order_factories import World

    from console.orders import appointments
    w = World.build()
    tomorrow = (utcnow() + dt.timedelta(days=1)).date()
    slot, = appointments.open_slots(w.supplier, tomorrow, [dt.time(9, 0)])
    assert slot.capacity == 2  # the declared default
    params.set_value("appointments.slot_capacity", 5, admin_user, city=w.supplier.city_id)
    slot, = appointments.open_slots(w.supplier, tomorrow, [dt.time(10, 0)])
    assert slot.capacity == 5


# ---- the console page ----------------------------------------------------------------------
def page(client, path):
    response = client.get(path)
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def english(client, form_token):
    client.post("/locale", data={"locale": "en", "csrf_token": form_token("/admin/")})


def test_the_page_lists_every_parameter_grouped_by_area_with_its_value(client, login_as,
                                                                          form_token):
    login_as("platform")
    english(client, form_token)
    text = page(client, "/admin/params/")
    for key, spec in params.REGISTRY.items():
        assert f'data-key="{key}"' in text and spec.show(spec.default) in text
    assert "Dispatch" in text and "Login security" in text


def test_a_change_is_previewed_then_confirmed_and_then_in_force(client, login_as, form_token):
    login_as("platform")
    english(client, form_token)
    sh = city("SH")
    form = {"key": GRAB, "value": "18", "city": str(sh.id), "order_type": "maintenance",
            "when": "now", "note": "更多调度时间",
            "csrf_token": form_token(f"/admin/params/{GRAB}/")}
    preview = client.post("/admin/params/edit", data=form)
    text = preview.get_data(as_text=True)
    assert preview.status_code == 200 and 'id="param-preview"' in text
    assert "10 minutes" in text and "18 minutes" in text
    assert not ParamValue.select().exists()  # nothing saved before the confirmation
    saved = client.post("/admin/params/edit", data={**form, "confirm": "1"})
    assert saved.status_code == 302
    assert params.param(GRAB, city=sh, order_type="maintenance") == 18
    detail = page(client, f"/admin/params/{GRAB}/")
    in_force = re.search(r'id="in-force">(.*?)</table>', detail, re.S).group(1)
    assert "Shanghai" in in_force and "18 minutes" in in_force


def test_bad_input_in_the_form_is_named_and_changes_nothing(client, login_as, form_token):
    login_as("platform")
    english(client, form_token)
    token = form_token(f"/admin/params/{GRAB}/")
    for value, when, effective, message in (
            ("abc", "now", "", "a whole number"), ("999", "now", "", "from 1 minutes"),
            ("12", "later", "2020-01-01T08:00", "cannot take effect in the past"),
            ("12", "later", "not a time", "enter a date and time")):
        response = client.post("/admin/params/edit", data={
            "key": GRAB, "value": value, "when": when, "effective_from": effective,
            "confirm": "1", "csrf_token": token})
        assert response.status_code == 422 and message in response.get_data(as_text=True)
    for city in ("9" * 30, "-1", "abc"):  # an id no database integer holds is no 500
        response = client.post("/admin/params/edit", data={
            "key": GRAB, "value": "12", "when": "now", "city": city, "confirm": "1",
            "csrf_token": token})
        assert response.status_code == 422 and "choose a city" in response.get_data(as_text=True)
    assert client.post("/admin/params/withdraw", data={"id": "9" * 30, "csrf_token": token}
                       ).status_code == 404
    assert not ParamValue.select().exists()


def test_security_parameters_need_their_own_permission(client, login_as, form_token):
    login_as("platform")  # may change parameters, not security ones
    token = form_token("/admin/params/security.login_lock_minutes/")
    form = {"key": "security.login_lock_minutes", "value": "30", "when": "now",
            "confirm": "1", "csrf_token": token}
    assert client.post("/admin/params/edit-sensitive", data=form).status_code == 403
    assert client.post("/admin/params/edit", data=form).status_code == 403  # not by the back door
    assert params.param("security.login_lock_minutes") == 15
    client.post("/logout", data={"csrf_token": token})
    login_as("admin")
    token = form_token("/admin/params/security.login_lock_minutes/")
    assert client.post("/admin/params/edit-sensitive",
                       data={**form, "csrf_token": token}).status_code == 302
    assert params.param("security.login_lock_minutes") == 30


def test_a_dispatcher_reads_the_parameters_but_may_not_change_them(client, login_as,
                                                                    form_token):
    login_as("dispatcher")
    text = page(client, f"/admin/params/{GRAB}/")
    assert 'id="param-form"' not in text
    response = client.post("/admin/params/edit", data={
        "key": GRAB, "value": "5", "when": "now", "confirm": "1",
        "csrf_token": form_token(f"/admin/params/{GRAB}/")})
    assert response.status_code == 403 and not ParamValue.select().exists()


def test_a_scheduled_value_is_withdrawn_from_the_page(client, login_as, form_token):
    login_as("platform")
    admin = User.get(User.email == "platform@demo.local")
    row = params.set_value(GRAB, 40, admin, effective_from=utcnow() + dt.timedelta(days=1))
    response = client.post("/admin/params/withdraw", data={
        "id": str(row.id), "csrf_token": form_token(f"/admin/params/{GRAB}/")})
    assert response.status_code == 302
    assert ParamValue.get_by_id(row.id).withdrawn_at is not None
    assert params.param(GRAB, at=utcnow() + dt.timedelta(days=2)) == 10


# ---- every worker sees a change on its next request ----------------------------------------
@pytest.fixture
def two_servers(app, database_url, tmp_path):
    env = server_env(database_url, SECRET_KEY=app.config["SECRET_KEY"],
                     SECURITY_PASSWORD_SALT=app.config["SECURITY_PASSWORD_SALT"])
    servers = start_servers(env, tmp_path, count=2)
    yield servers
    for server in servers:
        server.stop()


def test_a_second_server_process_sees_a_change_on_its_next_request(two_servers):
    first, second = (Visitor(server.url).log_in("platform") for server in two_servers)

    def shown(visitor):
        status, body = visitor.request("/admin/params/")
        assert status == 200
        row = re.search(rf'data-key="{GRAB}">(.*?)</tr>', body, re.S).group(1)
        return re.search(r'class="param-value">([^<]*)<', row).group(1)

    before = shown(second)  # the second process has now cached the parameters
    token = first.csrf_token(f"/admin/params/{GRAB}/")
    status, _ = first.request("/admin/params/edit", {"key": GRAB, "value": "17", "when": "now",
                                                     "confirm": "1", "csrf_token": token})
    assert status == 302
    assert before != shown(second) and "17" in shown(second)
