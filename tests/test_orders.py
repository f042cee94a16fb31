"""The order operations as customers, shops, butlers and staff rely on them: order numbers,
service codes, prices with their rule versions, the quote's explanation, cost changes, rework,
payment, reviews, appointments and each vehicle's history. (One database per backend for the
module; each test's changes are rolled back: the `rolled_back` mark.)"""
import datetime as dt
import re

import pytest
from order_factories import (
    World,
    make_butler,
    make_item,
    reload,
)
from peewee import IntegrityError

from console import orders
from console.catalogue import pricing
from console.common.clock import local_day
from console.db import utcnow
from console.models import (
    Appointment,
    Butler,
    Customer,
    Order,
    OrderEvent,
    OrderLine,
    PricingRuleSet,
    Review,
    SupplierTimeSlot,
)
from console.orders import aftersales, appointments
from console.orders.engine import OrderInputError, OrderStateError
from console.system import params

pytestmark = pytest.mark.rolled_back


@pytest.fixture
def w(app):
    return World.build()


def place(w, **kw):
    kw.setdefault("vehicle", w.vehicle)
    kw.setdefault("supplier", w.supplier)
    kw.setdefault("items", [make_item(w.supplier)])
    return orders.place_order(w.customer, kw.pop("order_type", "maintenance"), **kw)


def actions(order):
    return [e.action for e in orders.timeline(order)]


# ---- numbers and codes -------------------------------------------------------------------
def test_order_numbers_are_type_letter_local_date_and_a_sequence_that_sorts(w):
    placed = [place(w) for _ in range(3)] + [place(w, order_type="detailing",
                                                   items=[make_item(w.supplier, "detailing")])]
    numbers = [o.order_no for o in placed]
    today = local_day(utcnow())
    assert all(re.fullmatch(rf"[MD]{today}\d{{6}}", n) for n in numbers), numbers
    assert numbers[3].startswith("D")
    assert [n[9:] for n in numbers] == sorted(n[9:] for n in numbers)
    assert len(set(numbers)) == 4


def test_order_number_uses_the_platform_date_not_the_utc_date(app):
    late_evening_utc = dt.datetime(2026, 11, 23, 17, 30)  # 01:30 on the 24th in Shanghai
    assert orders.next_order_no("maintenance", late_evening_utc).startswith("M20261124")
    assert orders.next_order_no("towing", late_evening_utc).startswith("T20261124")


def test_service_code_is_eight_random_digits_unique_among_open_orders(w):
    order = place(w)
    assert re.fullmatch(r"\d{8}", order.service_code)
    with pytest.raises(IntegrityError):
        w.order(service_code=order.service_code)
    Order.update(is_open=False).where(Order.id == order.id).execute()
    reuse = w.order(service_code=order.service_code)  # a closed order's code is free again
    assert reuse.service_code == order.service_code


def test_a_clashing_service_code_is_drawn_again(w, monkeypatch):
    taken = place(w).service_code
    codes = iter([taken, taken, "12345678"])
    monkeypatch.setattr("console.orders.engine.new_service_code", lambda: next(codes))
    assert place(w).service_code == "12345678"


def test_the_shop_verifies_the_service_code_and_the_self_driven_car_arrives(w):
    order = place(w)
    assert order.status == "placed" and not order.needs_butler
    found = orders.verify_service_code(w.supplier_user, order.service_code)
    assert found.id == order.id and reload(order).status == "at_shop"
    assert actions(order)[-1] == "arrive"


def test_another_shop_cannot_use_a_customers_service_code(w):
    order = place(w)
    with pytest.raises(OrderInputError) as refused:
        orders.verify_service_code(w.other_supplier_user, order.service_code)
    assert refused.value.field == "code"
    assert reload(order).status == "placed"
    for bad in ("1234", "abcdefgh", None, 12345678):
        with pytest.raises(OrderInputError):
            orders.verify_service_code(w.supplier_user, bad)


# ---- prices --------------------------------------------------------------------------------
def test_the_estimate_and_fees_are_recorded_with_the_rule_versions_used(w):
    item = make_item(w.supplier, labour_fen=20000, parts=(("机油", 2, 15000),))
    order = place(w, items=[item], needs_butler=True, distance_m=8000)
    rules = PricingRuleSet.rules()
    expected = pricing.estimate([item], w.vehicle.car_model, rules, order.placed_at)
    fee = pricing.butler_fee(8000, order.placed_at, rules)
    assert order.estimate_fen == expected.amount and order.butler_fee_fen == fee.amount
    versions = order.pricing_rule_versions
    assert versions["estimate"] == expected.rule_id and versions["butler_fee"] == fee.rule_id
    assert set(versions) == {"estimate", "butler_fee", "delivery_fee"}
    lines = OrderLine.select().where(OrderLine.order == order.id, OrderLine.source == "estimate")
    assert sum(line.amount_fen for line in lines) == order.estimate_fen
    assert {line.name for line in lines} >= {item.name, "机油"}


def test_the_quote_explains_its_difference_from_the_estimate_line_by_line(w):
    item = make_item(w.supplier, labour_fen=20000, parts=(("机油", 1, 30000),))
    order = place(w, items=[item])
    order = orders.verify_service_code(w.supplier_user, order.service_code)
    orders.quote(order, w.supplier_user, [
        {"kind": "labour", "name": item.name, "qty": 1, "unit_fen": 20000},
        {"kind": "part", "name": "机油", "qty": 1, "unit_fen": 32000},
        {"kind": "part", "name": "刹车片", "qty": 2, "unit_fen": 15000},
        {"kind": "discount", "name": "会员优惠", "qty": 1, "unit_fen": 1000}])
    assert order.final_fen == 20000 + 32000 + 30000 - 1000
    diff = orders.quote_difference(order)
    assert diff["difference_fen"] == order.final_fen - order.estimate_fen
    rows = {row["name"]: row for row in diff["lines"]}
    assert rows["机油"]["difference_fen"] == 2000
    assert rows["刹车片"]["estimate_fen"] is None and rows["刹车片"]["final_fen"] == 30000
    assert rows["会员优惠"]["difference_fen"] == -1000
    assert item.name not in rows  # unchanged lines need no explanation
    assert OrderEvent.get(OrderEvent.order == order.id, OrderEvent.action == "quote"
                          ).amounts == {"final_fen": [None, order.final_fen]}


@pytest.mark.parametrize("bad_line, field", [
    ({"kind": "part", "name": "机油", "qty": 1, "unit_fen": 12.5}, "lines[1].unit_fen"),
    ({"kind": "part", "name": "机油", "qty": 1, "unit_fen": "1000"}, "lines[1].unit_fen"),
    ({"kind": "part", "name": "机油", "qty": 1, "unit_fen": -1}, "lines[1].unit_fen"),
    ({"kind": "part", "name": "机油", "qty": 0, "unit_fen": 100}, "lines[1]"),
    ({"kind": "gift", "name": "机油", "qty": 1, "unit_fen": 100}, "lines[1]"),
    ({"kind": "part", "name": " ", "qty": 1, "unit_fen": 100}, "lines[1].name"),
])
def test_a_bad_quote_line_is_refused_by_field_and_changes_nothing(w, bad_line, field):
    order = w.order(status="at_shop")
    with pytest.raises(OrderInputError) as refused:
        orders.quote(order, w.supplier_user, [bad_line])
    assert refused.value.field == field
    assert reload(order).status == "at_shop" and reload(order).final_fen is None


def test_money_is_never_a_float(w):
    with pytest.raises(TypeError):
        Order.update(paid_fen=1.5).where(Order.id == w.order().id).execute()
    with pytest.raises(OrderInputError):
        orders.mark_paid(w.order(status="repaired", final_fen=100), "PAY-1", 100.0)


# ---- placing: bad input --------------------------------------------------------------------
def test_placing_refuses_bad_input_naming_the_field(w):
    other_vehicle = World.build().vehicle
    cases = [
        (dict(order_type="spaceship"), "order_type"),
        (dict(vehicle=None), "vehicle"),
        (dict(vehicle=other_vehicle), "vehicle"),
        (dict(supplier=None, items=[]), "supplier"),
        (dict(items=[make_item(w.supplier, "detailing")]), "items"),
        (dict(items=[make_item(World.build().supplier)]), "items"),
        (dict(order_type="vip", supplier=None, items=[], details={"months": 2}), "months"),
        (dict(order_type="parts", needs_butler=True, items=[]), "needs_butler"),
    ]
    before = Order.select().count()
    for kwargs, field in cases:
        with pytest.raises(OrderInputError) as refused:
            place(w, **kwargs)
        assert refused.value.field == field, kwargs
    assert Order.select().count() == before


# ---- the repair flow -----------------------------------------------------------------------
def test_a_butler_order_runs_the_whole_flowchart(w):
    order = place(w, needs_butler=True)
    assert order.status == "awaiting_grab" and order.grab_deadline is not None
    orders.grab(order, w.butler)
    orders.advance(order, "pick_up", w.butler.user)
    orders.advance(order, "arrive", w.butler.user)
    orders.quote(order, w.supplier_user, [{"kind": "labour", "name": "保养", "unit_fen": 50000}])
    orders.confirm_quote(order, w.customer.user)
    orders.finish_repair(order, w.supplier_user)
    orders.mark_paid(order, "PAY-001", order.amount_due_fen)
    orders.advance(order, "return_car", w.butler.user)
    orders.review(order, w.customer.user, 5, "很好", butler_stars=4)
    orders.advance(order, "close", w.service)
    order = reload(order)
    assert order.status == "closed" and not order.is_open and order.closed_at
    assert order.paid_fen == 50000 + order.butler_fee_fen + order.delivery_fee_fen
    assert actions(order) == ["place", "publish", "grab", "pick_up", "arrive", "quote",
                              "confirm_quote", "finish_repair", "pay", "return_car", "review",
                              "close"]
    assert Review.select().where(Review.order_no == order.order_no).count() == 2


def test_payment_only_through_the_payment_interface_and_exactly_the_amount_due(w):
    order = w.order(status="repaired", final_fen=50000)
    with pytest.raises(OrderStateError) as refused:
        orders.transition(order, "pay", w.customer.user)
    assert refused.value.code == "not_allowed"
    with pytest.raises(OrderInputError) as wrong:
        orders.mark_paid(order, "PAY-9", 49999)
    assert wrong.value.field == "amount_fen" and reload(order).status == "repaired"
    first = orders.mark_paid(order, "PAY-9", 50000)
    again = orders.mark_paid(reload(order), "PAY-9", 50000)  # the gateway calls back twice
    assert first.id == again.id and reload(order).paid_fen == 50000


def test_a_refusing_butler_sends_the_task_back_with_the_bonus_raised(w):
    order = place(w, needs_butler=True)
    orders.grab(order, w.butler)
    orders.refuse(order, w.butler.user, "车坏了")
    order = reload(order)
    bonus = pricing.refusal_bonus(1, PricingRuleSet.rules(), order.updated_at)
    assert order.status == "awaiting_grab" and order.butler_id is None
    assert order.refusal_count == 1 and order.bonus_fen == bonus.amount
    assert order.pricing_rule_versions["refusal_bonus"] == bonus.rule_id
    assert Butler.get_by_id(w.butler.id).refusal_count == 1
    orders.grab(order, w.other_butler)  # someone else may take it now
    assert reload(order).butler_id == w.other_butler.id


@pytest.mark.parametrize("problem", [{"licence_points": 0}, {"status": "suspended"}])
def test_a_butler_without_licence_points_or_not_active_cannot_take_work(w, problem):
    order = place(w, needs_butler=True)
    butler = make_butler(**problem)
    with pytest.raises(OrderStateError) as refused:
        orders.grab(order, butler)
    assert refused.value.code == "butler_unavailable"
    with pytest.raises(OrderStateError):
        orders.assign(order, butler, w.dispatcher, "nearest")
    assert reload(order).status == "awaiting_grab"
    orders.assign(order, w.butler, w.dispatcher, "nearest")
    assert reload(order).butler_id == w.butler.id


def test_a_butler_of_another_city_cannot_grab(w):
    order = place(w, needs_butler=True)
    with pytest.raises(OrderStateError):
        orders.grab(order, make_butler("BJ-BUTLERS"))


def test_the_buttons_are_exactly_the_moves_the_user_may_make_now(w):
    order = w.order(status="quoted", final_fen=100)
    assert orders.available_actions(order, w.customer.user) == ["confirm_quote", "reject_quote"]
    assert orders.available_actions(order, w.other_customer.user) == []
    assert orders.available_actions(order, w.service) == ["cancel"]
    assert orders.available_actions(order, w.supplier_user) == []
    hall = w.order(status="awaiting_grab")
    assert orders.available_actions(hall, w.other_butler.user) == ["grab"]
    assert orders.available_actions(hall, w.dispatcher) == ["assign"]
    assert orders.available_actions(hall, w.other_dispatcher) == []


def test_a_refused_move_says_which_state_and_action_in_both_languages(app, w):
    order = w.order(status="placed")
    with pytest.raises(OrderStateError) as refused:
        orders.confirm_quote(order, w.customer.user)
    assert refused.value.code == "illegal_move"
    with app.app_context():
        english = refused.value.in_locale("en")
        chinese = refused.value.in_locale("zh_Hans_CN")
    assert order.order_no in english and "Placed" in english and "Confirm the quote" in english
    assert "已下单" in chinese and "确认报价" in chinese


# ---- cost changes, rework, complaints, follow-ups ------------------------------------------
def test_a_cost_change_moves_the_price_only_when_the_customer_confirms(w):
    order = w.order(status="in_repair", final_fen=50000)
    report = aftersales.post_progress(order, w.supplier_user, "刹车盘磨损，需更换",
                                      cost_change_fen=30000,
                                      lines=[{"kind": "part", "name": "刹车盘", "qty": 2,
                                              "unit_fen": 15000}])
    assert report.needs_confirmation and reload(order).final_fen == 50000
    with pytest.raises(OrderStateError) as waiting:
        orders.finish_repair(order, w.supplier_user)
    assert waiting.value.code == "not_possible"
    with pytest.raises(OrderStateError):
        aftersales.confirm_cost_change(report, w.other_customer.user)
    aftersales.confirm_cost_change(report, w.customer.user)
    assert reload(order).final_fen == 80000
    change = OrderLine.get(OrderLine.order == order.id, OrderLine.source == "change")
    assert (change.name, change.amount_fen, change.progress_id) == ("刹车盘", 30000, report.id)
    with pytest.raises(OrderStateError):  # decided once
        aftersales.confirm_cost_change(report, w.customer.user)
    rejected = aftersales.post_progress(order, w.supplier_user, "再加雨刮", cost_change_fen=8000)
    aftersales.reject_cost_change(rejected, w.customer.user, "不需要")
    assert reload(order).final_fen == 80000
    orders.finish_repair(order, w.supplier_user)
    assert reload(order).status == "repaired"


def test_rework_sends_the_order_back_to_repair_and_on_without_a_second_payment(w):
    order = w.order(status="returned", final_fen=50000, paid_fen=50000)
    request = aftersales.request_rework(order, w.customer.user, "异响未解决")
    assert reload(order).status == "in_repair" and request.status == "open"
    orders.finish_repair(order, w.supplier_user)
    order = reload(order)
    assert order.status == "paid" and order.paid_fen == 50000
    assert actions(order)[-3:] == ["request_rework", "finish_repair", "settle_rework"]
    orders.advance(order, "return_car", w.butler.user)
    assert reload(order).status == "returned"


def test_complaints_after_payment_are_recorded_and_handled(w):
    early = w.order(status="in_repair")
    with pytest.raises(OrderStateError):
        aftersales.complain(early, w.customer.user, "太慢")
    order = w.order(status="closed")
    complaint = aftersales.complain(order, w.customer.user, "服务态度差")
    assert reload(order).status == "closed" and actions(order)[-1] == "complain"
    aftersales.handle_complaint(complaint, w.service, "handling")
    done = aftersales.handle_complaint(complaint, w.service, "resolved", "已道歉并补偿")
    assert done.status == "resolved" and done.resolved_at
    with pytest.raises(OrderStateError):
        aftersales.handle_complaint(done, w.service, "handling")


def test_follow_up_visits_record_satisfaction_after_completion(w):
    with pytest.raises(OrderStateError):
        aftersales.follow_up(w.order(status="in_repair"), w.service, 5)
    order = w.order(status="returned")
    with pytest.raises(OrderInputError):
        aftersales.follow_up(order, w.service, 6)
    visit = aftersales.follow_up(order, w.service, 4, "满意")
    assert visit.satisfaction == 4 and visit.city_id == w.city.id


def test_service_history_lists_every_order_on_the_vehicle_newest_first(w):
    first = place(w, now=utcnow() - dt.timedelta(days=30))
    first = orders.verify_service_code(w.supplier_user, first.service_code)
    orders.quote(first, w.supplier_user, [{"kind": "labour", "name": "换机油", "unit_fen": 100}])
    second = place(w, order_type="detailing", items=[make_item(w.supplier, "detailing")])
    other = World.build()
    orders.place_order(other.customer, "maintenance", vehicle=other.vehicle,
                       supplier=other.supplier, items=[make_item(other.supplier)])
    history = aftersales.vehicle_service_history(w.vehicle)
    assert [r.order.id for r in history] == [second.id, first.id]
    assert [line.name for line in history[1].lines] == ["换机油"]  # the final quote's lines
    assert history[0].lines and all(line.source == "estimate" for line in history[0].lines)
    assert history[0].supplier.id == w.supplier.id


# ---- appointments, cancellation, other lifecycles --------------------------------------------
def test_an_appointment_takes_a_place_and_cancelling_gives_it_back(w):
    tomorrow = (utcnow() + dt.timedelta(days=1)).date()
    slot, = appointments.open_slots(w.supplier, tomorrow, [dt.time(10, 0)], capacity=1)
    order = place(w, slot=slot)
    assert SupplierTimeSlot.get_by_id(slot.id).booked == 1
    with pytest.raises(OrderInputError) as full:
        place(w, slot=slot)
    assert full.value.field == "slot"
    orders.cancel(order, w.customer.user, "改天再来")
    assert SupplierTimeSlot.get_by_id(slot.id).booked == 0
    assert Appointment.get(Appointment.order == order.id).status == "cancelled"
    assert place(w, slot=slot).status == "placed"


def test_a_vip_membership_is_active_once_paid(w):
    order = orders.place_order(w.customer, "vip", details={"months": 3})
    assert order.estimate_fen == params.vip_plans()[3] == 8000 and order.vehicle_id is None
    orders.mark_paid(order, "PAY-VIP", order.amount_due_fen)
    customer = Customer.get_by_id(w.customer.id)
    assert reload(order).status == "active" and customer.level == "vip"
    assert customer.vip_until > utcnow() + dt.timedelta(days=85)
    assert orders.expire_memberships(utcnow() + dt.timedelta(days=30)) == 0
    assert orders.expire_memberships(utcnow() + dt.timedelta(days=100)) == 1
    assert reload(order).status == "expired"
    assert Customer.get_by_id(w.customer.id).level == "regular"


def test_a_designated_drive_is_priced_by_the_distance_driven(w):
    order = orders.place_order(w.customer, "designated_driving", distance_m=5000)
    assert order.status == "requested" and order.needs_butler
    orders.grab(order, w.butler)
    orders.advance(order, "start_trip", w.butler.user)
    orders.advance(order, "end_trip", w.butler.user, distance_m=23000)
    order = reload(order)
    started = next(e.at for e in orders.timeline(order) if e.action == "start_trip")
    fare = pricing.designated_driving_fee(23000, started, PricingRuleSet.rules())
    assert order.status == "ended" and order.final_fen == fare.amount
    assert order.details["distance_m"] == 23000
    with pytest.raises(OrderInputError):
        orders.advance(w.order("designated_driving", status="started"), "end_trip",
                       w.butler.user, distance_m=12.5)


def test_an_assignment_must_name_the_butler_and_a_grab_takes_the_grabber(w):
    order = w.order(status="awaiting_grab")
    with pytest.raises(OrderInputError) as refused:
        orders.transition(order, "assign", w.dispatcher)
    assert refused.value.field == "butler" and reload(order).status == "awaiting_grab"
    orders.transition(order, "grab", w.other_butler.user)
    assert reload(order).butler_id == w.other_butler.id


def test_a_butler_replaced_meanwhile_cannot_act_on_his_stale_screen(w):
    order = w.order(status="assigned")
    stale = Order.get_by_id(order.id)  # the first butler's app still shows the task
    orders.assign(order, w.other_butler, w.dispatcher, "closer to the customer")
    with pytest.raises(OrderStateError) as refused:
        orders.advance(stale, "pick_up", w.butler.user)
    assert refused.value.code == "not_allowed"
    assert reload(order).status == "assigned" and reload(order).butler_id == w.other_butler.id
