"""The Content-Security-Policy in Chromium: the main pages load and work with it on (Flask-
Admin's scripts, its inline handlers, the language switch), and the browser reports no
violation; the served process names no versions in its Server header."""
import re
import urllib.request

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e

PAGES = ["/admin/", "/admin/users/", "/admin/users/new/", "/admin/roles/", "/admin/orders/"]


def watch_csp(page):
    """Collect every CSP violation the page reports (console errors and the DOM event)."""
    violations = []
    page.on("console", lambda message: violations.append(message.text)
            if "Content Security Policy" in message.text else None)
    page.add_init_script("""document.addEventListener('securitypolicyviolation', e =>
        console.error('Content Security Policy violation: ' + e.violatedDirective + ' ' +
                      e.blockedURI + ' ' + (e.sample || '')));""")
    return violations


def test_the_main_pages_work_in_chromium_with_the_csp_and_report_no_violation(
        new_page, sign_in):
    page = new_page()
    violations = watch_csp(page)
    page.goto("/login")
    expect(page.locator("#login-form")).to_be_visible()
    page.select_option("select[name=locale]", "en")  # our script, allowed by its nonce
    expect(page.locator("h5.card-title")).to_have_text("Log in")
    sign_in(page, "admin")
    for path in PAGES:
        page.goto(path)
        expect(page.locator("#logout")).to_be_visible()
    page.goto("/admin/orders/")
    order_link = page.locator("#order-table a.order-link").first
    order_link.click()
    page.wait_for_url("**/admin/orders/*/")

    # Flask-Admin's inline handlers run: "with selected" on an empty selection alerts
    page.goto("/admin/users/")
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.locator("a.dropdown-toggle", has_text=re.compile("With selected|选中")).click()
    page.locator(".dropdown-menu.show a.dropdown-item").first.click()
    for _ in range(50):
        if dialogs:
            break
        page.wait_for_timeout(100)
    assert dialogs, "the list action's inline handler did not run"
    # and the filter menu adds a filter row (jQuery, behind onclick="return false;")
    page.locator("a.dropdown-toggle", has_text=re.compile("Add Filter|过滤")).click()
    page.locator(".field-filters a.filter").first.click()
    expect(page.locator("table.filters tr")).not_to_have_count(0)
    assert violations == [], "\n".join(violations)


def test_the_server_header_names_no_versions(console_url):
    with urllib.request.urlopen(f"{console_url}/login") as response:
        servers = response.headers.get_all("Server") or []
        assert response.headers["Content-Security-Policy"]
    assert servers == ["console"], servers  # waitress with ident="console": no names, no versions
