"""Customers: registration with an app login, the checks of a console edit, VIP and
loyalty points."""

from flask_babel import gettext as _

from console.common.validators import InvalidValue, validate_mobile
from console.db import db
from console.models import (
    Customer,
    LoyaltyPointEntry,
    Organization,
)
from console.people.checks import CUSTOMERS_ORG, pinyin_key, reason_text, require_city
from console.system import audit, users


def register_customer(name, mobile, city, password=None, actor=None):
    """A new customer with an app login (role customer); the city decides who may see them."""
    customer = Customer(name=name, mobile=mobile, organization=city)
    with db.atomic():
        open_customer_account(customer, password)
        customer.save(force_insert=True)
        audit.record("create", customer, None, audit.snapshot(customer), actor=actor)
    return customer


def open_customer_account(customer, password=None):
    """Validate a new customer and create its app login; the caller saves the customer."""
    check_customer(customer)
    org = Organization.get(Organization.code == CUSTOMERS_ORG)
    customer.user = users.create_user(
        users.app_login_email("customer", customer.mobile), roles=["customer"], organization=org,
        password=password, phone=customer.mobile, full_name=customer.name, phone_field="mobile")
    return customer


def check_customer(customer):
    """Validate a customer edited in the console and carry it to the login account."""
    customer.name = (customer.name or "").strip()
    if not customer.name:
        raise InvalidValue("name", _("Name: required"))
    customer.name_pinyin = pinyin_key(customer.name)
    customer.mobile = validate_mobile(customer.mobile)
    require_city(customer.organization if customer.organization_id else None)
    if customer.level == "vip" and customer.vip_until is None:
        raise InvalidValue("vip_until", _("VIP until: a VIP customer needs an end date"))
    clash = Customer.select().where(Customer.mobile == customer.mobile)
    if customer.id:
        clash = clash.where(Customer.id != customer.id)
        users.sync_login(customer.user_id, customer.mobile, customer.name)
    if clash.exists():
        raise InvalidValue("mobile", _("Mobile: %(mobile)s is already registered",
                                       mobile=customer.mobile))


def set_vip(customer, until, actor, reason=""):
    """Make a customer VIP until `until` (UTC), or regular again when `until` is None."""
    with db.atomic():
        before = audit.snapshot(customer)
        customer.level = "vip" if until else "regular"
        customer.vip_until = until
        customer.save(only=[Customer.level, Customer.vip_until])
        audit.record("set_vip", customer, before, audit.snapshot(customer), note=reason,
                     actor=actor)
    return customer


def add_loyalty_points(customer, delta, reason, actor=None, order_no=""):
    """Credit (or debit, with a negative delta) loyalty points; a balance never goes below
    zero. The conditional update makes two concurrent debits safe."""
    delta = int(delta)
    reason = reason_text(reason)
    with db.atomic():
        changed = Customer.update(loyalty_points=Customer.loyalty_points + delta).where(
            Customer.id == customer.id, Customer.loyalty_points + delta >= 0).execute()
        if not changed:
            raise InvalidValue("loyalty_points", _("Loyalty points: the balance is too low"))
        balance = Customer.select(Customer.loyalty_points).where(
            Customer.id == customer.id).scalar()
        entry = LoyaltyPointEntry.create(customer=customer, delta=delta, balance_after=balance,
                                         reason=reason, order_no=order_no or "",
                                         actor=actor.id if actor else None,
                                         organization=customer.organization_id)
    customer.loyalty_points = balance
    return entry
