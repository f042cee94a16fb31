"""Service codes cannot be guessed at speed: wrong codes are audited and counted per shop (all
its staff together); past CONSOLE_SERVICE_CODE_MAX_FAILURES within the window every try — even
a right code — answers 429 in the API's JSON error shape until the oldest wrong code leaves
the window. Other shops are not affected."""
import datetime as dt

import pytest
from api_client import ApiClient
from api_world import SUPPLIER, ensure_profiles, place, shop, staff, supplier_offering, user

from console import orders
from console.db import utcnow
from console.errors import TooMany
from console.models import AuditLog, Order
from console.orders.engine import OrderInputError
from console.system import params, users

VERIFY = "/api/v1/supplier/service-codes/verify"


@pytest.fixture
def api(app, client):
    ensure_profiles()
    return ApiClient(app, client)


def wrong_code(order):
    return f"{(int(order.service_code) + 1) % 10**8:08d}"


def wrong_code_audits():
    return AuditLog.select().where(AuditLog.action == "verify_service_code",
                                   AuditLog.note == orders.operations.WRONG_SERVICE_CODE)


def test_ten_wrong_codes_make_the_shop_wait_even_with_the_right_code(api):
    staff_app = api.as_(SUPPLIER, language="en")
    order = place()
    for _ in range(10):
        response = staff_app.post(VERIFY, json={"code": wrong_code(order)})
        assert response.status_code == 422
    assert wrong_code_audits().count() == 10  # every wrong code is audited, with who and where
    audit = wrong_code_audits().first()
    assert audit.actor_id == user(SUPPLIER).id and audit.after == {"code_matched": False}

    response = staff_app.post(VERIFY, json={"code": order.service_code})
    assert response.status_code == 429  # ApiClient checked it is documented, in JSON shape
    assert response.json["error"]["code"] == "too_many_requests"
    assert "try again in 10 minutes" in response.json["error"]["message"]
    assert Order.get_by_id(order.id).status == "placed"
    assert AuditLog.select().where(AuditLog.action == "verify_service_code",
                                   AuditLog.note.startswith("refused")).count() == 1


def test_the_shop_is_counted_as_a_whole_and_other_shops_go_on(app):
    ensure_profiles()
    order = place()
    with app.test_request_context():
        colleague = users.create_user("colleague@demo.local", roles=["supplier_admin"],
                                      organization=staff(SUPPLIER).organization.code,
                                      password="Demo@2026")
    for who in [staff(SUPPLIER), colleague] * 5:
        with pytest.raises(OrderInputError):
            orders.verify_service_code(who, wrong_code(order))
    with pytest.raises(TooMany):
        orders.verify_service_code(colleague, order.service_code)

    rival = supplier_offering("detailing", exclude=shop())
    rival_staff = _staff_of(app, rival)
    rival_order = place(supplier=rival)
    assert orders.verify_service_code(rival_staff, rival_order.service_code).id == rival_order.id


def test_the_wait_ends_when_the_oldest_wrong_code_leaves_the_window(app):
    ensure_profiles()
    order = place()
    for _ in range(10):
        with pytest.raises(OrderInputError):
            orders.verify_service_code(staff(SUPPLIER), wrong_code(order))
    with pytest.raises(TooMany) as refused:
        orders.verify_service_code(staff(SUPPLIER), order.service_code)
    assert 9 * 60 < refused.value.retry_after <= 10 * 60 + 1
    for audit in wrong_code_audits():
        AuditLog.update(at=audit.at - dt.timedelta(minutes=10, seconds=1)).where(
            AuditLog.id == audit.id).execute()
    assert orders.verify_service_code(staff(SUPPLIER), order.service_code).id == order.id
    assert utcnow() - Order.get_by_id(order.id).updated_at < dt.timedelta(minutes=1)


def test_the_limit_is_a_platform_parameter(app):
    params.set_value("security.service_code_max_failures", 3, None)
    ensure_profiles()
    order = place()
    with app.app_context():  # as in a request: the app's settings apply
        for _ in range(3):
            with pytest.raises(OrderInputError):
                orders.verify_service_code(staff(SUPPLIER), wrong_code(order))
        with pytest.raises(TooMany):
            orders.verify_service_code(staff(SUPPLIER), order.service_code)


def _staff_of(app, supplier):
    with app.test_request_context():
        return users.create_user(f"staff-{supplier.code.lower()}@demo.local",
                                 roles=["supplier_admin"],
                                 organization=supplier.organization.code, password="Demo@2026")
