"""Console forms read in one language: the user form's field errors, the create form's password
wording, Flask-Admin's own messages, the organization picker and select2's texts; and the CSV
exports open in Excel (a byte-order mark, named after the page and the local time)."""
import datetime as dt
import json
import re
from html import unescape
from urllib.parse import unquote

import pytest

from console.common.clock import to_local
from console.db import utcnow
from console.models import Organization, User

FIELD_ERROR = re.compile(r'<ul class="form-text text-danger[^"]*">\s*<li>(.*?)</li>', re.S)


def switch(client, form_token, locale):
    response = client.post("/locale", data={"locale": locale, "next": "/admin/",
                                           "csrf_token": form_token("/admin/")})
    assert response.status_code == 302


def new_user_form(form_token, **changes):
    data = {"email": "fresh@demo.local", "username": "", "phone": "", "full_name": "新用户",
            "organization": str(Organization.get(Organization.code == "SH").id),
            "active": "y", "locale": "", "new_password": "Secret@2026",
            "csrf_token": form_token("/admin/users/new/")}
    data.update(changes)
    return data


@pytest.mark.parametrize("locale,messages", [
    ("zh_Hans_CN", {"username": "账号名", "email": "邮箱", "phone": "手机号"}),
    ("en", {"username": "Account name: ", "email": "Email: ", "phone": "Mobile: "}),
])
def test_a_duplicate_account_name_email_or_mobile_is_an_error_under_its_field(
        client, login_as, form_token, locale, messages):
    login_as("admin")
    switch(client, form_token, locale)
    taken = User.get(User.email == "dispatcher@demo.local")
    for field, value in (("username", taken.username), ("email", taken.email),
                         ("phone", taken.phone)):
        response = client.post("/admin/users/new/", data=new_user_form(form_token,
                                                                      **{field: value}))
        page = response.get_data(as_text=True)
        assert response.status_code == 200, field
        errors = [unescape(e) for e in FIELD_ERROR.findall(page)]
        assert len(errors) == 1 and errors[0].startswith(messages[field]), (field, errors)
        assert re.search(rf'id="{field}"[^>]*is-invalid|is-invalid[^>]*id="{field}"', page), field
    assert not User.select().where(User.email == "fresh@demo.local").exists()


def test_the_create_form_asks_for_a_first_password_not_one_to_keep(client, login_as,
                                                                   form_token):
    login_as("admin")
    switch(client, form_token, "en")
    create = client.get("/admin/users/new/").get_data(as_text=True)
    assert "Leave empty to keep the password" not in create
    assert "At least 8 characters." in create
    assert re.search(r'<label[^>]*for="new_password"[^>]*>\s*Password', create)
    edit = client.get(f"/admin/users/edit/?id={User.get(User.email == 'finance@demo.local').id}")
    assert "Leave empty to keep the password." in edit.get_data(as_text=True)
    staff = client.get("/admin/supplier_staff/new/").get_data(as_text=True)
    assert "Leave empty to keep the password" not in staff

    response = client.post("/admin/users/new/", data=new_user_form(form_token,
                                                                  new_password=""))
    assert FIELD_ERROR.findall(response.get_data(as_text=True)) == [
        "Password: at least 8 characters."]
    assert not User.select().where(User.email == "fresh@demo.local").exists()


def test_a_refused_form_on_a_chinese_page_says_so_in_chinese(client, login_as, form_token):
    login_as("admin")
    page = client.post("/admin/users/new/", data=new_user_form(
        form_token, organization="")).get_data(as_text=True)
    assert "Failed to create record." not in page
    assert "创建记录失败。" in page


def test_the_organization_picker_speaks_the_page_language(client, login_as, form_token):
    login_as("admin")
    page = client.get("/admin/users/new/").get_data(as_text=True)
    assert "请选择模型" not in page and "输入以搜索，然后选择" in page
    texts = json.loads(re.search(r'<script type="application/json" id="console-texts">(.*?)'
                                 r'</script>', page, re.S).group(1))
    assert texts["noMatches"] == "没有找到匹配项" and "%(count)s" in texts["typeMore"]

    switch(client, form_token, "en")
    found = client.get("/admin/users/ajax/lookup/?name=organization&query=SH").get_json()
    sh = Organization.get(Organization.code == "SH")
    assert [sh.id, sh.name_en] in found
    home = User.get(User.email == "admin@demo.local").organization
    assert f"· {home.name_en}</span>" in client.get("/admin/").get_data(as_text=True)


def test_review_party_types_are_labels_not_codes(client, login_as, form_token):
    from console.models import Butler, Customer, Review
    butler, customer = Butler.select().first(), Customer.select().first()
    Review.create(order_no="M20260101000001", target_kind="butler", butler=butler,
                  customer=customer, organization=butler.organization_id, rating="good",
                  stars=5, text="准时")
    login_as("admin")
    switch(client, form_token, "en")
    page = client.get("/admin/reviews/?flt0_0=butler").get_data(as_text=True)
    cells = re.findall(r'<td class="col-target_kind">\s*(.*?)\s*</td>', page, re.S)
    assert cells and set(cells) <= {"Supplier", "Butler"}, cells[:3]


def test_a_csv_export_has_a_byte_order_mark_and_the_page_and_local_time_in_its_name(
        client, login_as, form_token):
    login_as("admin")
    response = client.get("/admin/users/export/csv/")
    assert response.status_code == 200
    body = response.get_data()
    assert body.startswith(b"\xef\xbb\xbf")
    assert "邮箱" in body.decode("utf-8-sig").splitlines()[0]
    disposition = response.headers["Content-Disposition"]
    ascii_name = re.search(r'filename="([^"]+)"', disposition).group(1)
    local_name = unquote(re.search(r"filename\*=UTF-8''(\S+)", disposition).group(1))
    stamp = to_local(utcnow())
    assert re.fullmatch(r"users_\d{8}-\d{4}\.csv", ascii_name)
    assert local_name.startswith("用户_") and local_name.endswith(".csv")
    shown = dt.datetime.strptime(ascii_name[6:19], "%Y%m%d-%H%M")
    assert abs(shown - stamp.replace(tzinfo=None, second=0, microsecond=0)) <= \
        dt.timedelta(minutes=2)


def test_flask_admins_missing_messages_are_translated_even_outside_its_views(app):
    from flask_admin.babel import gettext
    from flask_babel import force_locale
    with app.test_request_context(), force_locale("zh_Hans_CN"):
        assert gettext("Failed to create record.") == "创建记录失败。"
        assert gettext("Record was successfully created.") == "创建记录成功。"
