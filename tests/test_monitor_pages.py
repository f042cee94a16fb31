"""The login and audit logs read like the rest of the console: Shanghai time to the second,
actions and fields in the page's language, each record's change as the fields that changed
(before → after) rather than raw JSON, a few lines per row."""
import datetime as dt
import re
from pathlib import Path

import pytest

from console.catalogue.items import TRANSITIONS as REVIEW_MOVES
from console.models import AuditLog, LoginEvent, User
from console.orders.states import ACTIONS as ORDER_ACTIONS
from console.people.suppliers import CERTIFICATION_TRANSITIONS
from console.views import audit_labels
from console.views.monitor import CHANGES_SHOWN

ROOT = Path(__file__).resolve().parent.parent
UTC_MOMENT = dt.datetime(2026, 3, 3, 1, 2, 3, 456789)  # 09:02:03 in Shanghai


def switch(client, form_token, locale):
    client.post("/locale", data={"locale": locale, "next": "/admin/",
                                 "csrf_token": form_token("/admin/")})


def test_the_login_log_shows_shanghai_time_without_microseconds(client, login_as):
    LoginEvent.create(at=UTC_MOMENT, identity="nobody@demo.local", ip="10.0.0.9",
                      success=False, reason="bad_password")
    login_as("admin")
    page = client.get("/admin/logins/?search=nobody@demo.local").get_data(as_text=True)
    assert "2026-03-03 09:02:03" in page
    assert "456789" not in page and "01:02:03" not in page


@pytest.mark.parametrize("locale,action,field", [
    ("en", "Roles of the account set", "Roles"), ("zh_Hans_CN", "设置账号的角色", "角色")])
def test_the_audit_log_says_what_changed_field_by_field_in_the_page_language(
        client, login_as, form_token, locale, action, field):
    user = User.get(User.email == "finance@demo.local")
    AuditLog.create(at=UTC_MOMENT, actor_name="admin", action="set_roles", object_type="User",
                    object_id=str(user.id), object_repr=str(user),
                    before={"roles": ["finance"]}, after={"roles": ["finance", "manager"]})
    login_as("admin")
    switch(client, form_token, locale)
    page = client.get("/admin/audit/?search=" + str(user)).get_data(as_text=True)
    row = re.search(r'<tr[^>]*>(?:(?!</tr>).)*set_roles.*?</table>', page, re.S).group(0)
    assert action in row and "2026-03-03 09:02:03" in row
    changes = re.search(r'<table class="audit-changes">(.*?)</table>', row, re.S).group(1)
    assert re.search(rf"<th>{field}</th>\s*<td class=\"audit-before\">finance</td>"
                     rf"<td>→</td><td class=\"audit-after\">finance, manager</td>", changes)
    assert "{" not in changes and "<pre" not in page


def test_a_page_of_twenty_entries_stays_compact(client, login_as):
    big = {f"field_{n}": n for n in range(30)}
    for n in range(25):
        AuditLog.create(actor_name="admin", action="update", object_type="Order",
                        object_id=str(n), object_repr=f"M{n}", before=big,
                        after={**big, **{f"field_{k}": -k for k in range(10)}})
    login_as("admin")
    page = client.get("/admin/audit/").get_data(as_text=True)
    tables = re.findall(r'<table class="audit-changes">(.*?)</table>', page, re.S)
    assert len(tables) == 20
    assert all(t.count("<tr>") <= CHANGES_SHOWN for t in tables)
    assert page.count("more changes") >= 20 - 5 or page.count("项修改") >= 15
    entry = AuditLog.select().where(AuditLog.object_repr == "M3").get()
    detail = client.get(f"/admin/audit/details/?id={entry.id}").get_data(as_text=True)
    assert re.search(r'<table class="audit-changes">(.*?)</table>', detail, re.S).group(
        1).count("<tr>") == 9  # field_1 .. field_9 (field_0 is 0 either way)


def test_times_on_other_lists_and_details_are_shanghai_time(client, login_as):
    login_as("admin")
    admin = User.get(User.email == "admin@demo.local")
    User.update(created_at=UTC_MOMENT).where(User.id == admin.id).execute()
    details = client.get(f"/admin/users/details/?id={admin.id}").get_data(as_text=True)
    assert "2026-03-03 09:02:03" in details and "456789" not in details


def recorded_actions():
    """Every action the code writes to the audit log: literal ones, the order moves and the
    small state tables' moves."""
    literal = set()
    for path in (ROOT / "console").rglob("*.py"):
        literal |= set(re.findall(r'audit\.record\(\s*"([a-z_]+)"', path.read_text()))
    literal |= set(ORDER_ACTIONS)
    literal |= {f"review_{action}" for _state, action in REVIEW_MOVES}
    literal |= {f"certification_{action}" for _state, action in CERTIFICATION_TRANSITIONS}
    return literal


def test_every_action_the_code_records_has_a_label():
    actions = recorded_actions()
    assert {"create", "set_roles", "refund", "reverse_vip", "move"} <= actions
    unlabelled = sorted(a for a in actions if audit_labels.action_label(a) == a)
    assert not unlabelled, f"give these audit actions a label in audit_labels.ACTIONS: " \
                           f"{unlabelled}"
