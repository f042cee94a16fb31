"""Customer service takes a call: finds the caller's order by the car's plate, opens it, reads
its timeline and prints the work order (工单) — in Chromium, as a user clicks."""
from pathlib import Path

import pytest
from playwright.sync_api import expect

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"

pytestmark = pytest.mark.e2e


def test_customer_service_finds_an_order_by_plate_reads_its_timeline_and_prints_the_work_order(
        page, sign_in):
    sign_in(page, "service@demo.local")
    page.get_by_role("link", name="订单列表").click()
    page.wait_for_url("**/admin/orders/")
    expect(page.locator("#order-total")).to_contain_text("订单")

    # the caller reads out a plate; here it is one from the list
    plates = [text.strip() for text in page.locator("#order-table tbody td:nth-child(5)")
              .all_inner_texts() if text.strip()]
    assert plates, "the demo orders should include cars"
    page.fill("#q", plates[0])
    page.click("#apply-filters")
    page.wait_for_url("**q=**")
    rows = page.locator("#order-table tbody tr[data-order-id]")
    expect(rows.first).to_be_visible()
    for text in rows.locator("td:nth-child(5)").all_inner_texts():
        assert text.strip() == plates[0]

    order_no = rows.first.locator("a.order-link").inner_text().strip()
    rows.first.locator("a.order-link").click()
    page.wait_for_url("**/admin/orders/*/")
    expect(page.locator("#order-title")).to_contain_text(order_no)
    expect(page.locator("#order-vehicle")).to_contain_text(plates[0])
    timeline = page.locator("#order-timeline .timeline-event")
    expect(timeline.first).to_contain_text("下单")
    steps = timeline.count()
    assert steps >= 1

    page.click("#work-order-link")
    page.wait_for_url("**/work-order/")
    expect(page.locator("#work-order-no")).to_have_text(order_no)
    expect(page.locator("#work-order-plate")).to_have_text(plates[0])
    expect(page.locator("#work-order-timeline tr")).to_have_count(steps)
    page.emulate_media(media="print")  # what the printer gets: the work order alone
    expect(page.locator("#sidebar")).to_be_hidden()
    expect(page.locator("#print-button")).to_be_hidden()
    expect(page.locator("#work-order")).to_be_visible()
    ARTIFACTS.mkdir(exist_ok=True)
    page.pdf(path=str(ARTIFACTS / "work-order.pdf"))
    assert (ARTIFACTS / "work-order.pdf").stat().st_size > 10_000
