"""An operator's first day, clicked through in Chromium in Chinese and English: the user form
answers a duplicate with an error under its field; a refund asks for confirmation and a reason
and takes back a VIP membership's time; the permission tree ticks nothing for its parent; the
menu is a tree whose nodes move and nest in place; lists keep plates and headings on one line
at 1366 and 1024 px with the sidebar folding away. Screenshots of every page visited, at both
widths and in both languages, are kept in tests/e2e/artifacts/ (CI keeps them)."""
import re
import subprocess
import sys
from pathlib import Path

import pytest
from playwright.sync_api import expect

ROOT = Path(__file__).resolve().parent.parent.parent
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
WIDTHS = (1366, 1024)
LANGUAGES = {"zh": "zh_Hans_CN", "en": "en"}

pytestmark = pytest.mark.e2e


def switch_language(page, lang):
    page.wait_for_load_state()
    if page.locator("#locale-form select").input_value() == LANGUAGES[lang]:
        return
    with page.expect_navigation():
        page.select_option("#locale-form select", LANGUAGES[lang])


@pytest.fixture
def speak(page):
    """speak(lang) switches the signed-in account's language; the account is left in Chinese
    afterwards (the choice is saved on it, and the other browser tests read Chinese)."""
    spoken = []

    def use(lang):
        spoken.append(lang)
        switch_language(page, lang)
    yield use
    if "en" in spoken and not page.is_closed():
        page.goto("/admin/")
        switch_language(page, "zh")


def shoot(page, name, lang, reload=True):
    """The page at each width, loaded at that width (unless it is the answer to a form or
    shows what was just ticked: then as it is)."""
    ARTIFACTS.mkdir(exist_ok=True)
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        if reload:
            page.reload()
            page.wait_for_load_state()
        page.wait_for_timeout(100)
        path = ARTIFACTS / f"polish-{name}-{lang}-{width}.png"
        page.screenshot(path=str(path), full_page=True)
        assert path.stat().st_size > 10_000
    page.set_viewport_size({"width": 1366, "height": 900})


def vip_order(console_env):
    """A paid 12-month VIP order of the demo customer, placed through the operations."""
    code = """
from console import create_app, orders
from console.db import db
from console.models import Customer, User
app = create_app()
with app.app_context(), db.connection_context():
    customer = Customer.get(Customer.user == User.get(User.email == "customer@demo.local"))
    order = orders.place_order(customer, "vip", details={"months": 12})
    orders.mark_paid(order, "PAY-E2E-" + order.order_no, order.amount_due_fen)
    print(order.id)
"""
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=console_env,
                            capture_output=True, text=True, timeout=120, check=True)
    return int(result.stdout.strip().splitlines()[-1])


# ---- the user form ---------------------------------------------------------------------------
@pytest.mark.parametrize("lang, field, message", [
    ("zh", "username", "账号名：dispatcher 已被注册"), ("en", "phone", "Mobile: 13800000003")])
def test_a_duplicate_on_the_user_form_is_an_error_under_its_field(page, sign_in, speak, lang,
                                                                   field, message):
    sign_in(page, "admin")
    speak(lang)
    page.goto("/admin/users/new/")
    expect(page.locator("label[for=new_password]")).to_have_text(
        re.compile("^(密码|Password)"))
    expect(page.locator("form.admin-form")).not_to_contain_text("Leave empty to keep")
    expect(page.locator("form.admin-form")).not_to_contain_text("留空")
    page.fill("#email", f"polish-{lang}@demo.local")
    page.fill("#full_name", "新同事")
    page.fill("#new_password", "Polish@2026")
    page.fill(f"#{field}", "dispatcher" if field == "username" else "13800000003")
    page.click("#s2id_organization a.select2-choice")
    page.fill("#select2-drop input.select2-input", "zzzz-no-such")
    expect(page.locator("#select2-drop .select2-no-results")).to_have_text(
        "没有找到匹配项" if lang == "zh" else "No matches found")
    page.fill("#select2-drop input.select2-input", "SH")
    page.locator("#select2-drop .select2-result-label").first.click()
    page.click("form.admin-form input.btn-primary[type=submit]")
    error = page.locator(f"#{field} ~ ul.text-danger, #{field} + ul.text-danger")
    expect(page.locator("ul.text-danger li")).to_contain_text(message)
    expect(page.locator("body")).not_to_contain_text("Failed to create record"
                                                     if lang == "zh" else "创建记录失败")
    assert error.count() <= 1
    shoot(page, "user-duplicate", lang, reload=False)


# ---- refund ------------------------------------------------------------------------------------
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_refund_is_confirmed_with_a_reason_and_takes_back_the_vip_time(
        page, sign_in, speak, console_env, lang):
    order_id = vip_order(console_env)
    sign_in(page, "service")
    speak(lang)
    page.goto(f"/admin/orders/{order_id}/")
    shoot(page, "order-detail", lang)
    page.click("#move-refund")
    page.wait_for_url(f"**/admin/orders/{order_id}/refund/")
    expect(page.locator("#refund-vip")).to_be_visible()
    shoot(page, "refund-confirm", lang)
    page.click("#confirm-refund")  # no reason yet: the browser keeps the form
    expect(page).to_have_url(re.compile(rf"/admin/orders/{order_id}/refund/$"))
    page.fill("#refund-reason", "客户误购，全额退款" if lang == "zh" else "Bought by mistake")
    page.click("#confirm-refund")
    page.wait_for_url(f"**/admin/orders/{order_id}/")
    expect(page.locator("#order-status")).to_contain_text("已退款" if lang == "zh"
                                                          else "Refunded")
    expect(page.locator("#order-refunded")).to_contain_text("¥298.00")
    expect(page.locator("#order-timeline")).to_contain_text(
        "客户误购" if lang == "zh" else "Bought by mistake")
    expect(page.locator("#move-refund")).to_have_count(0)
    shoot(page, "order-refunded", lang, reload=False)


# ---- the permission tree ---------------------------------------------------------------------
def tree_box(page, code):
    return page.locator("#resources").get_by_label(re.compile(rf"· {re.escape(code)}$"))


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_ticking_a_page_ticks_none_of_its_actions_and_shows_a_mixed_state(page, sign_in, speak,
                                                                          lang):
    sign_in(page, "admin")
    speak(lang)
    page.goto("/admin/permissions/new/")
    orders = tree_box(page, "orders")
    actions = page.locator("#resources").get_by_label(re.compile(r"· orders\.action\."))
    expect(actions).to_have_count(17)
    orders.check()
    for n in range(17):
        expect(actions.nth(n)).not_to_be_checked()
    refund = tree_box(page, "orders.action.refund")
    refund.check()
    assert orders.evaluate("box => box.indeterminate") is True
    assert orders.is_checked()
    for code in ("orders.action.refund", "orders.action.settle"):
        label = page.locator(f"label[for='{tree_box(page, code).get_attribute('id')}']")
        expect(label.locator(".fa-exclamation-triangle")).to_have_count(1)
    orders.uncheck()
    expect(refund).not_to_be_checked()
    tree_box(page, "orders.action.settle").check()  # an action brings its page with it
    expect(orders).to_be_checked()
    page.locator("#resources").scroll_into_view_if_needed()
    shoot(page, "permission-tree", lang, reload=False)


# ---- the menu tree ---------------------------------------------------------------------------
def children(page, parent_id):
    return page.locator(f"#menu-{parent_id} > ul > li").evaluate_all(
        "items => items.map(i => Number(i.dataset.menuId))")


def move(page, node_id, parent_value):
    row = page.locator(f"#menu-{node_id} > .menu-node")
    row.locator("select[name=parent]").select_option(str(parent_value))
    with page.expect_navigation():
        row.locator(".move-to-button").click()


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_menu_is_a_tree_whose_nodes_move_and_nest_in_place(page, sign_in, speak, lang):
    sign_in(page, "admin")
    speak(lang)
    page.goto("/admin/menus/")
    roots = page.locator("#menu-tree > ul > li")
    expect(roots.first).to_be_visible()
    system = int(roots.first.get_attribute("data-menu-id"))
    before = children(page, system)
    assert len(before) >= 3
    second = before[1]
    with page.expect_navigation():
        page.locator(f"#menu-{second} > .menu-node button.move-up").click()
    assert children(page, system) == [second, before[0], *before[2:]]
    with page.expect_navigation():  # and back down: the tree is as it was
        page.locator(f"#menu-{second} > .menu-node button.move-down").click()
    assert children(page, system) == before

    page_node = next(n for n in reversed(before) if page.locator(f"#menu-{n}").get_attribute(
        "data-kind") == "page")  # the last one: moved back, it is last again
    options = page.locator(f"#menu-{page_node} > .menu-node select[name=parent] option")
    offered = [v for v in options.evaluate_all("os => os.map(o => o.value)") if v != "top"]
    kinds = {page.locator(f"#menu-{v}").get_attribute("data-kind") for v in offered}
    assert kinds == {"menu"}, "only menus are offered as parents"
    other = next(int(v) for v in offered if int(v) != system)
    move(page, page_node, other)
    assert page_node in children(page, other)
    shoot(page, "menu-tree", lang)
    move(page, page_node, system)  # put it back for the other browser tests
    assert children(page, system) == before


# ---- lists at 1366 and 1024 px -------------------------------------------------------------
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_lists_keep_plates_and_headings_on_one_line_and_the_sidebar_folds(page, sign_in, speak,
                                                                          lang):
    sign_in(page, "admin")
    speak(lang)
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        page.goto("/admin/orders/")
        heights = page.locator("#order-table thead th").evaluate_all(
            "cells => cells.map(c => c.getBoundingClientRect().height)")
        assert max(heights) < 45, heights  # one line each, not a character per line
        plates = page.locator("#order-table td.text-plate").evaluate_all(
            "cells => cells.filter(c => c.textContent.trim())"
            ".map(c => c.getBoundingClientRect().height)")
        assert plates and max(plates) < 45, plates
        sidebar = page.locator("#sidebar")
        if width < 1200:
            assert sidebar.evaluate("s => s.getBoundingClientRect().right") <= 0
            page.click("#sidebar-toggle")
            page.wait_for_timeout(300)
            assert sidebar.evaluate("s => s.getBoundingClientRect().left") >= 0
            page.click("#sidebar-toggle")
        else:
            assert sidebar.evaluate("s => s.getBoundingClientRect().left") >= 0
        page.goto("/admin/reviews/")
        clipped = page.locator("table.model-list td.col-text").evaluate_all(
            "cells => cells.map(c => getComputedStyle(c).textOverflow)")
        assert clipped and set(clipped) == {"ellipsis"}
    page.set_viewport_size({"width": 1366, "height": 900})
    for name, url in (("orders", "/admin/orders/"), ("orders-search", "/admin/orders/?q=M2026"),
                      ("users", "/admin/users/"), ("audit", "/admin/audit/"),
                      ("logins", "/admin/logins/"), ("pricing-rules", "/admin/pricing_rules/"),
                      ("reviews", "/admin/reviews/"), ("service-item-new",
                                                       "/admin/service_items/new/")):
        page.goto(url)
        expect(page.locator(".alert-danger")).to_have_count(0)
        shoot(page, name, lang)
