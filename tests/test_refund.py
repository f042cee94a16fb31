"""Refunds: one operation with a required reason; a VIP order's refund takes back the
membership time it added (and the audit shows it); the console asks for confirmation and the
reason on a page of its own, and the order's amounts show the refund."""
import datetime as dt
import re

import pytest
import testkit
from order_factories import World, reload

from console import orders
from console.db import utcnow
from console.errors import InputError
from console.models import AuditLog, Customer, OrderEvent, User


@pytest.fixture
def w(app):
    return World.build()


def paid_vip(w, months=3):
    order = orders.place_order(w.customer, "vip", details={"months": months})
    orders.mark_paid(order, f"PAY-{order.order_no}", order.amount_due_fen)
    return reload(order)


def customer(w):
    return Customer.get_by_id(w.customer.id)


def test_a_refund_needs_a_reason_and_records_what_was_refunded(w):
    order = w.order("maintenance", status="returned", paid_fen=32000, final_fen=32000)
    with pytest.raises(InputError) as refused:
        orders.refund(order, w.service, "  ")
    assert refused.value.field == "reason" and reload(order).status == "returned"

    event = orders.refund(order, w.service, "车辆返修两次仍未修好，全额退款")
    order = reload(order)
    assert order.status == "refunded" and not order.is_open
    assert order.details["refunded_fen"] == 32000
    assert (event.action, event.note) == ("refund", "车辆返修两次仍未修好，全额退款")
    assert AuditLog.select().where(AuditLog.action == "refund",
                                   AuditLog.object_id == str(order.id)).count() == 1


def test_refunding_a_vip_order_takes_back_the_months_it_added(w):
    assert customer(w).vip_until is None
    order = paid_vip(w)
    assert customer(w).level == "vip"
    orders.refund(order, w.service, "客户误购")
    after = customer(w)
    assert after.level == "regular" and after.vip_until is None
    reversed_vip = reload(order).details["vip_reversed"]
    assert reversed_vip["to"] is None and reversed_vip["from"] == order.details["vip_until"]
    reversal = AuditLog.get(AuditLog.action == "reverse_vip", AuditLog.object_id == str(order.id))
    assert reversal.before == {"vip_until": order.details["vip_until"]}
    assert reversal.after == {"vip_until": None} and reversal.note == "客户误购"
    assert AuditLog.select().where(AuditLog.action == "set_vip",
                                   AuditLog.object_id == str(w.customer.id),
                                   AuditLog.note == order.order_no).count() == 2  # on and off


def test_refunding_one_of_two_stacked_memberships_keeps_the_other(w):
    first = paid_vip(w, months=3)
    second = paid_vip(w, months=12)
    both = customer(w).vip_until
    orders.refund(first, w.service, "重复购买")
    first_period = dt.datetime.fromisoformat(first.details["vip_until"]) - \
        dt.datetime.fromisoformat(first.details["vip_from"])
    after = customer(w)
    assert after.level == "vip" and after.vip_until == both - first_period
    assert after.vip_until > utcnow() + dt.timedelta(days=330)
    assert reload(second).status == "active"


def test_a_vip_refund_preview_says_what_the_membership_becomes(w):
    order = paid_vip(w)
    preview = orders.refund_preview(order)
    assert preview["refund_fen"] == order.paid_fen == 8000
    assert preview["vip"] == {"from": customer(w).vip_until, "to": None}
    assert customer(w).level == "vip"  # a preview changes nothing


# ---- the console ---------------------------------------------------------------------------
def signed_in_service(app):
    client = app.test_client()
    assert testkit.login(client, "service@demo.local").status_code == 302
    return client


def test_the_refund_button_leads_to_a_confirmation_page_not_a_refund(app, w):
    order = paid_vip(w)
    client = signed_in_service(app)
    detail = client.get(f"/admin/orders/{order.id}/").get_data(as_text=True)
    button = re.search(r'<a href="([^"]+)"[^>]*id="move-refund"', detail)
    assert button and button.group(1) == f"/admin/orders/{order.id}/refund/"
    assert f'action="/admin/orders/{order.id}/act/refund/"' not in detail

    page = client.get(button.group(1)).get_data(as_text=True)
    assert 'id="refund-vip"' in page and 'name="reason"' in page and "required" in page
    token = testkit.csrf_token(client, button.group(1))
    one_click = client.post(f"/admin/orders/{order.id}/act/refund/",
                            data={"csrf_token": token, "reason": "误购"})
    assert one_click.status_code == 302
    assert one_click.headers["Location"].endswith(f"/admin/orders/{order.id}/refund/")
    assert reload(order).status == "active" and customer(w).level == "vip"


def test_a_confirmed_refund_without_a_reason_changes_nothing(app, w):
    order = paid_vip(w)
    client = signed_in_service(app)
    url = f"/admin/orders/{order.id}/refund/"
    token = testkit.csrf_token(client, url)
    page = client.post(f"/admin/orders/{order.id}/act/refund/",
                       data={"csrf_token": token, "confirmed": "1", "reason": ""},
                       headers={"Referer": f"http://localhost{url}"}, follow_redirects=True)
    text = page.get_data(as_text=True)
    assert 'alert alert-danger' in text and 'id="refund-form"' in text
    assert reload(order).status == "active"


def test_a_confirmed_refund_shows_in_the_timeline_and_the_amounts(app, w):
    order = paid_vip(w)
    client = signed_in_service(app)
    url = f"/admin/orders/{order.id}/refund/"
    token = testkit.csrf_token(client, url)
    response = client.post(f"/admin/orders/{order.id}/act/refund/",
                           data={"csrf_token": token, "confirmed": "1",
                                 "reason": "客户误购，全额退款"})
    assert response.status_code == 302
    assert reload(order).status == "refunded" and customer(w).level == "regular"
    detail = client.get(f"/admin/orders/{order.id}/").get_data(as_text=True)
    refunded = re.search(r'id="order-refunded".*?</tr>', detail, re.S).group(0)
    assert "¥80.00" in refunded
    assert "客户误购，全额退款" in detail
    event = OrderEvent.get(OrderEvent.order == order.id, OrderEvent.action == "refund")
    assert event.actor_id == User.get(User.email == "service@demo.local").id
