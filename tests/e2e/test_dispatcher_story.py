"""The dispatcher's job (DESIGN §1), in Chinese and in English, as a user clicks: a towing task
nobody grabs times out, the sweep job runs once and the order is on the dispatch board with its
overdue marker; the dispatcher chooses it and assigns the top-ranked candidate — two clicks from
the board — and the timeline shows the timeout and the assignment. Screenshots of the board at
1366 and 1024 px are kept in tests/e2e/artifacts/."""
import subprocess
import sys
from pathlib import Path

import pytest
from playwright.sync_api import expect
from servers import flask_cli

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.e2e

# A Shanghai customer's towing request placed 20 minutes ago, its pickup next to the first
# active Shanghai butler with a position: its grab window (10 minutes) has passed.
PLACE_OVERDUE = """
import datetime as dt
from run import app
from console.db import db, utcnow
from console.models import Butler, Customer, Organization, Vehicle
from console.orders import place_order
with app.app_context(), db.connection_context():
    city = Organization.get(Organization.code == "SH")
    butler = (Butler.select().where(Butler.city == city.id, Butler.status == "active",
                                    Butler.last_lat.is_null(False)).order_by(Butler.id).first())
    vehicle = (Vehicle.select().join(Customer).where(Customer.organization == city.id,
               Vehicle.is_deleted == False).order_by(Vehicle.id).first())
    order = place_order(vehicle.customer, "towing", vehicle=vehicle, city=city,
                        now=utcnow() - dt.timedelta(minutes=20),
                        details={"pickup_lat": butler.last_lat, "pickup_lng": butler.last_lng})
    print(order.order_no)
"""

CASES = [  # locale, overdue marker, assign button, timeline words
    ("zh_Hans_CN", "已超时", "指派", "超时无人抢单：转入调度看板", "指派车总管"),
    ("en", "overdue", "Assign", "Not grabbed in time: on the dispatch board", "Assign a butler"),
]


def place_overdue(env):
    result = subprocess.run([sys.executable, "-c", PLACE_OVERDUE], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120, check=True)
    return result.stdout.strip().splitlines()[-1]


def switch_language(page, locale):
    with page.expect_navigation():
        page.select_option("#locale-form select", locale)


@pytest.mark.parametrize("locale, overdue, assign, timed_out, assigned", CASES)
def test_a_dispatcher_assigns_the_top_candidate_of_an_order_nobody_grabbed(
        page, sign_in, console_env, locale, overdue, assign, timed_out, assigned):
    order_no = place_overdue(console_env)
    sign_in(page, "dispatcher")
    switch_language(page, locale)
    try:
        page.goto("/admin/dispatch/")
        expect(page.locator("table.dispatch-board")).not_to_contain_text(order_no)
        flask_cli(console_env, "jobs", "run", "timeout_sweep")  # one sweep
        page.goto("/admin/dispatch/")
        row = page.locator("table.dispatch-board tr", has_text=order_no)
        expect(row.locator(".overdue")).to_contain_text(overdue)
        row.get_by_role("link", name=order_no).click()  # click 1: choose the order
        candidates = page.locator(".candidates tbody tr")
        expect(candidates.first).to_be_visible()
        ARTIFACTS.mkdir(exist_ok=True)
        for width in (1366, 1024):
            page.set_viewport_size({"width": width, "height": 900})
            page.screenshot(path=str(ARTIFACTS / f"dispatch-board-{locale}-{width}.png"),
                            full_page=True)
        top = candidates.first.locator("td").nth(1).inner_text().splitlines()[0]
        candidates.first.get_by_role("button", name=assign).click()  # click 2: assign
        page.wait_for_url("**/admin/dispatch/?done=*")
        timeline = page.locator(".assigned-timeline")
        expect(timeline).to_contain_text(order_no)
        expect(timeline).to_contain_text(timed_out)
        expect(timeline).to_contain_text(assigned)
        expect(page.locator(".alert")).to_contain_text(top)
        expect(page.locator("table.dispatch-board")).not_to_contain_text(order_no)
        page.screenshot(path=str(ARTIFACTS / f"dispatch-assigned-{locale}.png"), full_page=True)
    finally:
        if locale != "zh_Hans_CN":  # the account keeps the choice: leave it in Chinese
            switch_language(page, "zh_Hans_CN")
