"""The platform administrator's story, clicked through the console in Chromium: build a
permission from resources, a role from that permission with a data scope, a user with that
role; the user sees exactly what the role allows; a role change shows on the user's next page."""
import re
import uuid
from urllib.parse import parse_qs, urlparse

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e

SH_SUBTREE = {"上海分公司", "上海调度组", "上海车管家队"}


def open_from_sidebar(page, href):
    page.click(f'#sidebar a[href="{href}"]')
    page.wait_for_url(f"**{href}")


def click_create(page, list_href):
    page.click(f'a[href^="{list_href}new/"]')
    page.wait_for_selector("form.admin-form")


def save(page):
    page.click("form.admin-form input.btn-primary[type=submit]")
    expect(page.locator(".alert-success")).to_be_visible()
    expect(page.locator(".alert-danger")).to_have_count(0)


def search_list(page, term):
    """Type into the list's search box and press Enter, as a user looks a row up."""
    box = page.locator('form[role=search] input[name=search]')
    box.fill(term)
    box.press("Enter")
    page.wait_for_url(lambda url: parse_qs(urlparse(url).query).get("search") == [term])
    return page.locator("table.model-list")


def tick(page, tree_id, code):
    """The checkbox of the tree node whose label ends in `· <code>`."""
    return page.locator(f"#{tree_id}").get_by_label(re.compile(rf"· {re.escape(code)}$"))


def pick_organization(page, search, name):
    """Drive Flask-Admin's select2 ajax widget like a user: open it, type, pick a result."""
    page.click("#s2id_organization a.select2-choice")
    page.fill("#select2-drop input.select2-input", search)
    page.locator("#select2-drop .select2-result-label", has_text=name).first.click()
    expect(page.locator("#s2id_organization .select2-chosen")).to_contain_text(name)


def sidebar_link(page, href):
    return page.locator(f'#sidebar a[href="{href}"]')


def create_permission(page, code):
    open_from_sidebar(page, "/admin/permissions/")
    click_create(page, "/admin/permissions/")
    page.fill("#code", code)
    page.fill("#name", "上海机构与用户查看")
    page.fill("#name_en", "View Shanghai organizations and users")
    for resource in ("organizations", "users"):
        tick(page, "resources", resource).check()
        children = page.locator("#resources").get_by_label(
            re.compile(rf"· {resource}\.")).all()
        assert children, f"the {resource} page shows no button resources under it"
        for child in children:  # ticking a page ticks none of its buttons: it may only look
            expect(child).not_to_be_checked()
    save(page)
    expect(search_list(page, code)).to_contain_text(code)


def create_role(page, code, permission_code):
    open_from_sidebar(page, "/admin/roles/")
    click_create(page, "/admin/roles/")
    page.fill("#name", code)
    page.fill("#title", "上海只读员")
    page.fill("#title_en", "Shanghai viewer")
    page.select_option("#data_scope", "org_and_below")
    tick(page, "permissions", permission_code).check()
    save(page)
    expect(search_list(page, code)).to_contain_text(code)


def create_user(page, username, role_code):
    open_from_sidebar(page, "/admin/users/")
    click_create(page, "/admin/users/")
    page.fill("#email", f"{username}@demo.local")
    page.fill("#username", username)
    page.fill("#full_name", "上海只读 周明")
    pick_organization(page, "上海分", "上海分公司")
    tick(page, "roles", role_code).check()
    page.fill("#new_password", "Viewer@2026")
    save(page)
    expect(search_list(page, username)).to_contain_text(f"{username}@demo.local")


def test_a_user_sees_exactly_what_the_administrator_granted_and_a_role_change_shows_next_page(
        page, new_page, sign_in):
    suffix = uuid.uuid4().hex[:6]
    permission_code, role_code, username = (f"sh.view.{suffix}", f"sh_viewer_{suffix}",
                                            f"shviewer{suffix}")

    sign_in(page, "admin")
    create_permission(page, permission_code)
    create_role(page, role_code, permission_code)
    create_user(page, username, role_code)
    page.click("#logout")
    expect(page.locator("#login-form")).to_be_visible()

    sign_in(page, username, "Viewer@2026")
    expect(page.locator("#current-user")).to_contain_text("上海分公司")
    for href in ("/admin/users/", "/admin/organizations/"):
        expect(sidebar_link(page, href)).to_be_visible()
    for href in ("/admin/roles/", "/admin/permissions/", "/admin/audit/", "/admin/menus/"):
        expect(sidebar_link(page, href)).to_have_count(0)
    expect(page.locator("#sidebar")).to_contain_text("系统管理")
    expect(page.locator("#sidebar")).not_to_contain_text("系统监控")

    open_from_sidebar(page, "/admin/users/")
    organizations = page.locator("td.col-organization").all_inner_texts()
    assert organizations, "the user list shows no users"
    assert {o.strip() for o in organizations} <= SH_SUBTREE, organizations
    expect(search_list(page, username)).to_contain_text(f"{username}@demo.local")
    expect(search_list(page, "dispatcher")).to_contain_text("dispatcher@demo.local")
    expect(search_list(page, "admin@demo.local")).not_to_contain_text("admin@demo.local")
    expect(page.locator('a[href^="/admin/users/new/"]')).to_have_count(0)
    expect(page.locator('a[href^="/admin/users/edit/"]')).to_have_count(0)

    for typed in ("/admin/roles/", "/admin/users/new/"):
        response = page.goto(typed)
        assert response.status == 403, typed
        expect(page.locator("#error-title")).to_contain_text("403")

    admin = new_page()
    sign_in(admin, "admin")
    open_from_sidebar(admin, "/admin/roles/")
    row = admin.locator("table.model-list tr", has_text=role_code)
    row.locator('a[href*="/admin/roles/edit/"]').click()
    tick(admin, "permissions", "monitor.audit.read").check()
    expect(tick(admin, "permissions", permission_code)).to_be_checked()
    save(admin)

    page.goto("/admin/")
    expect(sidebar_link(page, "/admin/audit/")).to_be_visible()
    expect(page.locator("#sidebar")).to_contain_text("审计日志")
    open_from_sidebar(page, "/admin/audit/")
    expect(page.locator("#error-title")).to_have_count(0)
    expect(page.locator("table.model-list")).to_be_visible()
