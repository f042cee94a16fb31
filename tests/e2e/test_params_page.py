"""An administrator tunes the Shanghai grab window for maintenance orders in 参数设置, in
Chinese and in English, as a user clicks: open the page from the menu, choose the scope, type
the value, preview the change, confirm, and see the new value in force."""
from pathlib import Path

import pytest
from playwright.sync_api import expect

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"

pytestmark = pytest.mark.e2e

CASES = [  # locale, menu and labels, the value typed, what the page shows
    ("zh_Hans_CN", "参数设置", "抢单时限", "上海分公司", "维修保养", "16", "16 分钟", "确认并保存"),
    ("en", "Platform parameters", "Grab window", "Shanghai branch", "Maintenance", "18",
     "18 minutes", "Confirm and save"),
]


def switch_language(page, locale):
    with page.expect_navigation():
        page.select_option("#locale-form select", locale)


@pytest.mark.parametrize("locale, menu, label, city, order_type, typed, shown, confirm", CASES)
def test_an_administrator_changes_the_shanghai_grab_window_for_maintenance(
        page, sign_in, locale, menu, label, city, order_type, typed, shown, confirm):
    sign_in(page, "platform")
    switch_language(page, locale)
    try:
        page.get_by_role("link", name=menu).click()
        page.wait_for_url("**/admin/params/")
        page.get_by_role("link", name=label).click()
        page.wait_for_url("**/admin/params/dispatch.grab_window/")
        page.select_option("#city", label=city)
        page.select_option("#order_type", label=order_type)
        page.fill("#value", typed)
        page.click("#param-preview-button")
        preview = page.locator("#param-preview")
        expect(preview).to_contain_text(shown)
        expect(preview).to_contain_text(city)
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"params-preview-{locale}.png"), full_page=True)
        page.get_by_role("button", name=confirm).click()
        page.wait_for_url("**/admin/params/dispatch.grab_window/")
        row = page.locator("#in-force tr", has_text=city)
        expect(row).to_contain_text(order_type)
        expect(row).to_contain_text(shown)
        expect(page.locator("#history")).to_contain_text(shown)
        page.screenshot(path=str(ARTIFACTS / f"params-detail-{locale}.png"), full_page=True)
    finally:
        if locale != "zh_Hans_CN":  # the account keeps the choice: leave it in Chinese
            switch_language(page, "zh_Hans_CN")
