"""The customer, butler and supplier detail pages in Chromium, in Chinese and English: each
shows its related records, and a screenshot of each is kept in tests/e2e/artifacts/."""
from pathlib import Path

import pytest
from playwright.sync_api import expect

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"

pytestmark = pytest.mark.e2e

# (list page, search term, the detail page's container, the related-record cards,
#  a heading in Chinese, the same heading in English)
PAGES = [
    ("/admin/customers/", "13800000009", "#customer-detail", ["#vehicles-card",
     "#points-history"], "车辆", "Vehicles"),
    ("/admin/butlers/", "13800000008", "#butler-detail", ["#deductions-card",
     "#refusal-history", "#reviews-card"], "驾照分记录", "Licence point history"),
    ("/admin/suppliers/", "SH001", "#supplier-detail", ["#certification-card", "#items-card",
     "#reviews-card"], "资质证件", "Qualification documents"),
]


def open_details(page, list_path, term):
    """Find the record through the list's search box and open its detail page."""
    page.goto(f"{list_path}?search={term}")
    page.locator("table.model-list a[href*='/details/']").first.click()
    page.wait_for_url("**/details/**")


def switch_language(page, locale):
    """The language menu in the top bar; the choice is saved on the account."""
    with page.expect_navigation():
        page.select_option("#locale-form select", locale)


@pytest.mark.parametrize("locale, language", [("zh_Hans_CN", "zh"), ("en", "en")])
@pytest.mark.parametrize("list_path, term, container, cards, heading_zh, heading_en", PAGES)
def test_people_detail_pages_show_related_records_in_both_languages(
        page, sign_in, locale, language, list_path, term, container, cards, heading_zh,
        heading_en):
    sign_in(page, "platform")
    switch_language(page, locale)
    try:
        open_details(page, list_path, term)
        expect(page.locator(container)).to_be_visible()
        for card in cards:
            expect(page.locator(card)).to_be_visible()
        expect(page.locator(container)).to_contain_text(heading_zh if language == "zh"
                                                        else heading_en)
        expect(page.locator(".alert-dismissable.alert-danger")).to_have_count(0)
        ARTIFACTS.mkdir(exist_ok=True)
        shot = ARTIFACTS / f"people-{list_path.strip('/').split('/')[-1]}-{language}.png"
        page.screenshot(path=str(shot), full_page=True)
        assert shot.stat().st_size > 10_000
    finally:
        if locale != "zh_Hans_CN":  # the account keeps the choice: leave it in Chinese
            switch_language(page, "zh_Hans_CN")
