"""The one `create_user`: every path that makes an account (CLI, console forms, customer and
butler registration, seed) goes through it, so its checks hold on all of them."""
import pytest

from console import people
from console.errors import InputError
from console.models import Organization, User, UserRoles
from console.system import users


@pytest.fixture
def app_context(app):
    with app.app_context():  # password hashing reads the app's settings
        yield


def make(email="new.person@demo.local", **changes):
    args = dict(roles=["dispatcher"], organization="SH", password="Secret@2026")
    args.update(changes)
    return users.create_user(email, **args)


@pytest.mark.parametrize("email", ["no-at-sign.demo.local", "two@@demo.local", "a b@demo.local",
                                   "", "nobody@nowhere"])
def test_an_email_that_is_no_email_address_is_refused_and_nothing_is_written(email,
                                                                              app_context):
    before = User.select().count()
    with pytest.raises(InputError) as refused:
        make(email)
    assert refused.value.field == "email"
    assert User.select().count() == before


@pytest.mark.parametrize("field,changes", [
    ("email", {"email": "dispatcher@demo.local"}),
    ("username", {"username": "dispatcher"}),
    ("phone", {"phone": "taken"}),
])
def test_an_email_account_name_or_mobile_already_registered_is_a_field_error(field, changes,
                                                                              app_context):
    taken = User.get(User.email == "dispatcher@demo.local")
    changes = {k: (getattr(taken, k) if k != "email" else v) for k, v in changes.items()}
    email = changes.pop("email", "new.person@demo.local")
    with pytest.raises(InputError) as refused:
        make(email, **changes)
    assert refused.value.field == field
    assert not User.select().where(User.email == "new.person@demo.local").exists()


def test_a_created_account_has_its_role_organization_and_a_hashed_password(app_context):
    user = make(phone="+86 139-1234-5678", username="new.person")
    assert user.phone == "13912345678"  # the one mobile rule normalized it
    assert user.password != "Secret@2026" and user.fs_uniquifier
    assert [link.role.name for link in UserRoles.select().where(UserRoles.user == user.id)] \
        == ["dispatcher"]
    assert user.organization.code == "SH"


def test_unknown_role_or_organization_and_short_passwords_are_refused(app_context):
    for changes, field in (({"roles": ["wizard"]}, "role"),
                           ({"organization": "NOWHERE"}, "organization"),
                           ({"password": "short"}, "new_password")):
        with pytest.raises(InputError) as refused:
            make(**changes)
        assert refused.value.field == field


def test_customer_registration_uses_the_same_rule_for_a_mobile_taken_by_a_staff_account(
        app_context):
    staff = User.get(User.email == "dispatcher@demo.local")
    city = Organization.get(Organization.code == "SH")
    with pytest.raises(InputError) as refused:
        people.register_customer("王小明", staff.phone, city)
    assert refused.value.field == "mobile"


def test_the_console_user_form_answers_a_duplicate_with_a_field_error_not_a_500(
        client, login_as, form_token):
    login_as("admin")
    client.post("/locale", data={"locale": "en", "csrf_token": form_token("/admin/")})
    taken = User.get(User.email == "dispatcher@demo.local")
    for field, value, message in (("username", taken.username, "Account name: "),
                                  ("email", "dispatcher@demo.local", "Email: "),
                                  ("email", "not-an-address", "is not an email address")):
        data = {"email": "fresh@demo.local", "username": "", "full_name": "新用户",
                "organization": str(taken.organization_id), "active": "y", "locale": "",
                "new_password": "Secret@2026", "csrf_token": form_token("/admin/users/new/")}
        data[field] = value
        response = client.post("/admin/users/new/", data=data)
        assert response.status_code == 200, field
        assert message in response.get_data(as_text=True), field
    assert not User.select().where(User.email == "fresh@demo.local").exists()
