"""The dispatch board page: a timed-out order is listed with its overdue marker, choosing it
shows the candidates part by part, one click assigns and the timeline shows it; a grab a moment
earlier is reported with who took it; the poll answers the clocks; a manager only looks."""
import datetime as dt
import re

import pytest
from order_factories import World, reload

from console import dispatch, orders
from console.db import utcnow
from console.models import Butler, OrderEvent


@pytest.fixture
def w(app):
    Butler.update(status="suspended").execute()  # only this world's butlers
    return World.build()


def overdue(w, **fields):
    order = w.order("towing", status="requested",
                    grab_deadline=utcnow() - dt.timedelta(minutes=3),
                    details={"pickup_lat": 31.23, "pickup_lng": 121.47}, **fields)
    dispatch.sweep_timeouts()
    return order


def english(client, form_token):
    client.post("/locale", data={"locale": "en", "csrf_token": form_token("/admin/")})


def test_the_dispatcher_sees_the_order_and_assigns_the_top_candidate(w, login_as, client,
                                                                      form_token):
    Butler.update(last_lat=31.231, last_lng=121.47).where(Butler.id == w.butler.id).execute()
    order = overdue(w)
    login_as("dispatcher")
    english(client, form_token)
    page = client.get("/admin/dispatch/").get_data(as_text=True)
    assert order.order_no in page and "overdue" in page
    page = client.get(f"/admin/dispatch/?order={order.id}").get_data(as_text=True)
    assert "Candidates for" in page and w.butler.name in page
    first = re.search(r'name="butler_id" value="(\d+)"', page).group(1)
    assert int(first) == w.butler.id  # 0.1 km away: the top candidate
    for label in ("Distance", "Open orders", "Stars", "Refusal rate", "Licence points",
                  "Online"):
        assert label in page
    token = form_token("/admin/dispatch/")
    answer = client.post("/admin/dispatch/assign", data={
        "order_id": order.id, "butler_id": first, "note": "最近的", "csrf_token": token})
    assert answer.status_code == 302 and f"done={order.id}" in answer.location
    assert reload(order).butler_id == w.butler.id
    page = client.get(answer.location).get_data(as_text=True)
    assert "assigned to" in page and "Timeline of" in page and "最近的" in page
    assert OrderEvent.select().where(OrderEvent.order == order.id,
                                     OrderEvent.action == "assign").count() == 1


def test_a_grab_a_moment_earlier_is_shown_with_who_took_it_and_nothing_changes(
        w, login_as, client, form_token):
    order = overdue(w)
    login_as("dispatcher")
    english(client, form_token)
    token = form_token("/admin/dispatch/")
    orders.grab(reload(order), w.butler)
    answer = client.post("/admin/dispatch/assign", data={
        "order_id": order.id, "butler_id": w.other_butler.id, "csrf_token": token},
        headers={"Referer": "http://localhost/admin/dispatch/"})
    assert answer.status_code == 302
    page = client.get("/admin/dispatch/").get_data(as_text=True)
    assert "was taken a moment earlier" in page and w.butler.name in page
    assert reload(order).butler_id == w.butler.id


def test_the_poll_answers_each_order_clock_and_the_count(w, login_as, client):
    order = overdue(w)
    login_as("dispatcher")
    answer = client.get("/admin/dispatch/clock.json").get_json()
    assert answer["count"] == 1
    assert answer["orders"][str(order.id)]["left"] < -170  # 3 minutes overdue
    assert answer["orders"][str(order.id)]["waited"] >= 0


def test_the_batch_proposal_is_applied_in_one_click(w, login_as, client, form_token):
    Butler.update(last_lat=31.23, last_lng=121.47).execute()
    first, second = overdue(w), overdue(w)
    login_as("dispatcher")
    english(client, form_token)
    page = client.get("/admin/dispatch/").get_data(as_text=True)
    pairs = re.findall(r'name="pair" value="([\d:]+)"', page)
    assert len(pairs) == 2 and "Batch proposal" in page
    answer = client.post("/admin/dispatch/batch-assign", data={
        "pair": pairs, "csrf_token": form_token("/admin/dispatch/")})
    assert answer.status_code == 302
    assert {reload(first).butler_id, reload(second).butler_id} == {w.butler.id,
                                                                   w.other_butler.id}


def test_a_manager_sees_the_board_but_cannot_assign(w, login_as, client, form_token):
    order = overdue(w)
    login_as("manager")
    page = client.get("/admin/dispatch/").get_data(as_text=True)
    assert order.order_no in page
    page = client.get(f"/admin/dispatch/?order={order.id}").get_data(as_text=True)
    assert 'action="/admin/dispatch/assign"' not in page
    answer = client.post("/admin/dispatch/assign", data={
        "order_id": order.id, "butler_id": w.butler.id,
        "csrf_token": form_token("/admin/dispatch/")})
    assert answer.status_code == 403 and reload(order).butler_id is None
