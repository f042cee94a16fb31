"""Service catalogue: review transitions, what may be ordered, item codes under concurrent
creation, and the console pages with the supplier's data scope."""
import itertools
import re
import threading

import pytest

from console import people
from console.catalogue import items as catalogue
from console.catalogue.items import TRANSITIONS, CatalogueError
from console.db import db
from console.models import (
    AuditLog,
    CarModel,
    Organization,
    ServiceItem,
    ServiceItemPart,
    Supplier,
    User,
)

STATUSES = ("draft", "pending", "approved", "rejected")
ACTIONS = ("submit", "approve", "reject", "revise")


def make_supplier(code, types=("maintenance", "detailing")):
    city = Organization.get(Organization.code == "SH")
    return people.create_supplier(code, f"{code} 汽修", city, list(types))


def make_model(code, displacement="1.5T"):
    return CarModel.create(code=code, brand="大众", series="朗逸", year_style="2024款",
                           displacement=displacement)


@pytest.fixture
def supplier(app):
    return make_supplier("TSTA")


def new_item(supplier, name="小保养", status="draft", **kw):
    item = catalogue.create_item(supplier, name, kw.pop("order_type", "maintenance"),
                                 kw.pop("labour_price_fen", 12_000), **kw)
    ServiceItem.update(review_status=status).where(ServiceItem.id == item.id).execute()
    return ServiceItem.get_by_id(item.id)


# ---- review transitions -------------------------------------------------------------------
@pytest.mark.parametrize("status, action", list(itertools.product(STATUSES, ACTIONS)))
def test_every_review_move_is_allowed_exactly_as_the_table_says(supplier, status, action):
    item = new_item(supplier, status=status)
    target = TRANSITIONS.get((status, action))
    if target is None:
        with pytest.raises(CatalogueError):
            catalogue.transition(item, action, reason="不符合要求")
        assert ServiceItem.get_by_id(item.id).review_status == status
    else:
        catalogue.transition(item, action, reason="不符合要求")
        assert ServiceItem.get_by_id(item.id).review_status == target


def test_a_rejection_needs_a_reason_and_records_it_with_the_reviewer(supplier):
    reviewer = User.get(User.email == "platform@demo.local")
    item = new_item(supplier, status="pending")
    with pytest.raises(CatalogueError) as error:
        catalogue.reject(item, reviewer, reason="   ")
    assert error.value.field == "reason"
    assert ServiceItem.get_by_id(item.id).review_status == "pending"
    catalogue.reject(item, reviewer, reason="工时价高于市场价")
    stored = ServiceItem.get_by_id(item.id)
    assert (stored.review_status, stored.review_reason) == ("rejected", "工时价高于市场价")
    assert stored.reviewed_by_id == reviewer.id and stored.reviewed_at is not None
    entry = AuditLog.select().where(AuditLog.action == "review_reject").get()
    assert entry.after["review_status"] == "rejected" and entry.actor_id == reviewer.id


def test_a_stale_review_loses_to_the_one_that_came_first(supplier):
    item = new_item(supplier, status="pending")
    stale = ServiceItem.get_by_id(item.id)
    catalogue.approve(item)
    with pytest.raises(CatalogueError):
        catalogue.reject(stale, reason="too late")
    assert ServiceItem.get_by_id(item.id).review_status == "approved"


# ---- what may be ordered ------------------------------------------------------------------
def orderable_ids(order_type="maintenance", car_model=None, supplier_code="TSTA"):
    """Orderable items of the test supplier (the demo suppliers have theirs too)."""
    return {i.id for i in catalogue.orderable_items(order_type, car_model)
            if i.supplier.code == supplier_code}


def test_only_approved_active_items_of_active_suppliers_can_be_ordered(supplier):
    items = {status: new_item(supplier, name=status, status=status) for status in STATUSES}
    assert orderable_ids() == {items["approved"].id}
    assert not catalogue.is_orderable(items["pending"])
    ServiceItem.update(is_active=False).where(ServiceItem.id == items["approved"].id).execute()
    assert orderable_ids() == set()
    ServiceItem.update(is_active=True).where(ServiceItem.id == items["approved"].id).execute()
    Supplier.update(is_active=False).where(Supplier.id == supplier.id).execute()
    assert orderable_ids() == set()


def test_an_item_for_listed_car_models_fits_only_those_and_an_unlisted_item_fits_all(supplier):
    lavida, passat = make_model("T-LAVIDA"), make_model("T-PASSAT", "2.0T")
    only_lavida = new_item(supplier, name="朗逸专用", status="approved",
                           car_model_ids=[lavida.id])
    every = new_item(supplier, name="通用", status="approved")
    assert orderable_ids(car_model=lavida) == {only_lavida.id, every.id}
    assert orderable_ids(car_model=passat) == {every.id}
    assert orderable_ids(car_model=None) == {every.id}
    assert orderable_ids("detailing", lavida) == set()


def test_changing_the_price_of_an_approved_item_sends_it_back_for_review(supplier):
    item = new_item(supplier, status="approved")
    catalogue.revise_item(item, item.name, "maintenance", 15_000, [], [])
    assert ServiceItem.get_by_id(item.id).review_status == "draft"
    assert orderable_ids() == set()


def test_item_content_is_checked_field_by_field(supplier):
    with pytest.raises(CatalogueError) as error:
        catalogue.create_item(supplier, "拖车", "towing", 100)
    assert error.value.field == "order_type"
    with pytest.raises(CatalogueError) as error:
        catalogue.create_item(supplier, "小保养", "maintenance", 120.5)
    assert error.value.field == "labour_price_fen"
    with pytest.raises(CatalogueError) as error:
        catalogue.create_item(supplier, "小保养", "maintenance", 100,
                              parts=[{"name": "机油", "quantity": 0, "unit_price_fen": 100}])
    assert error.value.field == "parts"
    assert not ServiceItem.select().where(ServiceItem.supplier == supplier.id).exists()


# ---- item codes -------------------------------------------------------------------------
def test_item_codes_are_the_supplier_code_and_a_four_digit_sequence(supplier):
    other = make_supplier("TSTB")
    codes = [new_item(supplier, name=f"项目{n}").code for n in range(3)]
    assert codes == ["TSTA0001", "TSTA0002", "TSTA0003"]
    assert new_item(other).code == "TSTB0001"


def test_item_codes_stay_unique_when_many_are_created_at_once(app, supplier):
    threads, per_thread, failures = 6, 4, []

    def create_some(n):
        try:
            with db.connection_context():
                for k in range(per_thread):
                    catalogue.create_item(Supplier.get_by_id(supplier.id), f"并发{n}-{k}",
                                          "maintenance", 100)
        except Exception as exc:  # reported below, with the thread's error
            failures.append(repr(exc))

    workers = [threading.Thread(target=create_some, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert failures == []
    codes = sorted(i.code for i in ServiceItem.select().where(ServiceItem.supplier == supplier.id))
    assert codes == [f"TSTA{n:04d}" for n in range(1, threads * per_thread + 1)]
    assert all(re.fullmatch(r"TSTA\d{4}", c) for c in codes)


# ---- console pages: the supplier's data scope and the review buttons ------------------------
def demo_item(code_prefix, status="approved"):
    return ServiceItem.select().join(Supplier).where(
        Supplier.code == code_prefix, ServiceItem.review_status == status).first()


def listed_codes(html):
    return set(re.findall(r'<td class="col-code">\s*(\S+)\s*</td>', html))


def test_a_supplier_admin_lists_only_their_own_suppliers_items(client, login_as):
    login_as("supplier")
    codes = listed_codes(client.get("/admin/service_items/?page_size=100").get_data(
        as_text=True))
    assert codes and all(code.startswith("SH001") for code in codes)


@pytest.mark.parametrize("view", ["details", "edit"])
def test_a_supplier_admin_typing_another_suppliers_item_id_gets_404(client, login_as, view):
    other = demo_item("BJ001") or ServiceItem.select().join(Supplier).where(
        Supplier.code != "SH001").first()
    login_as("supplier")
    assert client.get(f"/admin/service_items/{view}/?id={other.id}").status_code == 404
    own = demo_item("SH001")
    assert client.get(f"/admin/service_items/{view}/?id={own.id}").status_code == 200


def test_a_supplier_admin_cannot_post_an_edit_of_another_suppliers_item(client, login_as,
                                                                       form_token):
    other = ServiceItem.select().join(Supplier).where(Supplier.code != "SH001").first()
    login_as("supplier")
    token = form_token("/admin/service_items/")
    response = client.post(f"/admin/service_items/edit/?id={other.id}", data={
        "csrf_token": token, "name": "改价", "order_type": other.order_type,
        "labour_price_fen": "1.00"})
    assert response.status_code == 404
    assert ServiceItem.get_by_id(other.id).name == other.name


def test_a_supplier_admin_may_submit_but_not_approve_their_item(client, login_as, form_token):
    draft = demo_item("SH001", "draft")
    login_as("supplier")
    page = client.get(f"/admin/service_items/details/?id={draft.id}").get_data(as_text=True)
    assert 'value="submit"' in page and 'value="approve"' not in page
    token = form_token("/admin/service_items/")
    client.post("/admin/service_items/review/", data={"csrf_token": token, "id": draft.id,
                                                      "action": "submit"})
    assert ServiceItem.get_by_id(draft.id).review_status == "pending"
    refused = client.post("/admin/service_items/review/", data={
        "csrf_token": token, "id": draft.id, "action": "approve"})
    assert refused.status_code == 403
    assert ServiceItem.get_by_id(draft.id).review_status == "pending"


def test_the_platform_rejects_with_a_reason_from_the_detail_page(client, login_as, form_token):
    pending = demo_item("SH001", "pending")
    login_as("platform")
    token = form_token(f"/admin/service_items/details/?id={pending.id}")
    empty = client.post("/admin/service_items/review/", data={
        "csrf_token": token, "id": pending.id, "action": "reject", "reason": " "},
        follow_redirects=True)
    assert "a rejection needs a reason" in empty.get_data(as_text=True) or \
        "必须填写原因" in empty.get_data(as_text=True)
    assert ServiceItem.get_by_id(pending.id).review_status == "pending"
    client.post("/admin/service_items/review/", data={
        "csrf_token": token, "id": pending.id, "action": "reject", "reason": "配件价格偏高"})
    stored = ServiceItem.get_by_id(pending.id)
    assert (stored.review_status, stored.review_reason) == ("rejected", "配件价格偏高")


def test_a_supplier_admin_creates_an_item_with_parts_for_their_own_supplier_only(
        client, login_as, form_token):
    own = Supplier.get(Supplier.code == "SH001")
    other = Supplier.get(Supplier.code != "SH001")
    login_as("supplier")
    form = client.get("/admin/service_items/new/").get_data(as_text=True)
    picker = re.search(r'<input[^>]*id="supplier"[^>]*>', form).group()
    assert 'data-role="select2-ajax"' in picker  # typed and looked up, not a long list
    found = client.get("/admin/service_items/ajax/lookup/?name=supplier&query=").get_json()
    assert [row[0] for row in found] == [own.id]
    model = CarModel.select().first()
    order_type = own.service_types[0]
    response = client.post("/admin/service_items/new/", data={
        "csrf_token": form_token("/admin/service_items/new/"), "supplier": own.id,
        "name": "冬季检查套餐", "order_type": order_type, "labour_price_fen": "88.50",
        "is_active": "y", "car_models": [model.id],
        "parts-0-name": "防冻液", "parts-0-part_no": "AF-2L", "parts-0-quantity": "2",
        "parts-0-unit_price_fen": "35.00"})
    assert response.status_code == 302, response.get_data(as_text=True)[-1500:]
    item = ServiceItem.get(ServiceItem.name == "冬季检查套餐")
    assert item.code.startswith("SH001") and item.review_status == "draft"
    assert (item.labour_price_fen, item.parts_total_fen) == (8850, 7000)
    assert item.organization_id == own.organization_id and item.car_model_ids() == [model.id]
    forged = client.post("/admin/service_items/new/", data={
        "csrf_token": form_token("/admin/service_items/new/"), "supplier": other.id,
        "name": "越权项目", "order_type": order_type, "labour_price_fen": "1.00"})
    assert forged.status_code == 200  # the form is shown again: not a valid choice
    assert not ServiceItem.select().where(ServiceItem.name == "越权项目").exists()


def test_editing_the_price_of_an_approved_item_in_the_console_returns_it_to_draft(
        client, login_as, form_token):
    item = demo_item("SH001")
    login_as("supplier")
    url = f"/admin/service_items/edit/?id={item.id}"
    data = {"csrf_token": form_token(url), "name": item.name, "order_type": item.order_type,
            "labour_price_fen": "999.00", "is_active": "y"}
    for n, part in enumerate(item.parts.order_by(ServiceItemPart.id)):
        data.update({f"parts-{n}-id": part.id, f"parts-{n}-name": part.name,
                     f"parts-{n}-part_no": part.part_no, f"parts-{n}-quantity": part.quantity,
                     f"parts-{n}-unit_price_fen": f"{part.unit_price_fen / 100:.2f}"})
    data["car_models"] = item.car_model_ids()
    assert client.post(url, data=data).status_code == 302
    stored = ServiceItem.get_by_id(item.id)
    assert (stored.labour_price_fen, stored.review_status) == (99_900, "draft")
    assert stored.parts_total_fen == item.parts_total_fen


def test_a_parts_line_marked_for_deletion_is_removed(client, login_as, form_token):
    item = new_item(make_supplier("TSTC"), parts=[
        {"name": "机油", "part_no": "OIL", "quantity": 1, "unit_price_fen": 38_900},
        {"name": "机滤", "part_no": "FLT", "quantity": 1, "unit_price_fen": 4_500}])
    login_as("platform")
    url = f"/admin/service_items/edit/?id={item.id}"
    data = {"csrf_token": form_token(url), "name": item.name, "order_type": item.order_type,
            "labour_price_fen": "120.00", "is_active": "y", "del-parts-0": "y"}
    for n, part in enumerate(item.part_lines()):
        data.update({f"parts-{n}-id": part.id, f"parts-{n}-name": part.name,
                     f"parts-{n}-part_no": part.part_no, f"parts-{n}-quantity": part.quantity,
                     f"parts-{n}-unit_price_fen": f"{part.unit_price_fen / 100:.2f}"})
    assert client.post(url, data=data).status_code == 302
    assert [p.name for p in ServiceItem.get_by_id(item.id).part_lines()] == ["机滤"]
    entry = AuditLog.select().where(AuditLog.action == "update_content",
                                    AuditLog.object_id == str(item.id)).get()
    assert len(entry.before["parts"]) == 2 and len(entry.after["parts"]) == 1
