"""Butlers (车总管): registration with an app login, who may be given work, status,
licence points and the refusal count."""

from flask_babel import gettext as _

from console.common.validators import InvalidValue, validate_mobile
from console.db import db
from console.models import (
    BUTLER_STATUSES,
    LICENCE_POINTS_FULL,
    Butler,
    LicencePointDeduction,
    RefusalCountChange,
)
from console.people.checks import city_of, pinyin_key, reason_text, whole_number
from console.system import audit, users


def register_butler(name, mobile, team, password=None, actor=None):
    """A new butler in a city team, with an app login (role butler)."""
    butler = Butler(name=name, mobile=mobile, organization=team)
    with db.atomic():
        open_butler_account(butler, password)
        butler.save(force_insert=True)
        audit.record("create", butler, None, audit.snapshot(butler), actor=actor)
    return butler


def open_butler_account(butler, password=None):
    """Validate a new butler and create its app login; the caller saves the butler."""
    check_butler(butler)
    butler.user = users.create_user(
        users.app_login_email("butler", butler.mobile), roles=["butler"],
        organization=butler.organization, password=password, phone=butler.mobile,
        full_name=butler.name, phone_field="mobile")
    return butler


def check_butler(butler):
    """Validate a butler edited in the console; the city follows the team."""
    butler.name = (butler.name or "").strip()
    if not butler.name:
        raise InvalidValue("name", _("Name: required"))
    butler.name_pinyin = pinyin_key(butler.name)
    butler.mobile = validate_mobile(butler.mobile)
    if butler.status not in BUTLER_STATUSES:
        raise InvalidValue("status", _("Status: unknown value"))
    city = city_of(butler.organization) if butler.organization_id else None
    if city is None:
        raise InvalidValue("organization", _("Team: choose a team inside a city"))
    butler.city = city
    clash = Butler.select().where(Butler.mobile == butler.mobile)
    if butler.id:
        clash = clash.where(Butler.id != butler.id)
        users.sync_login(butler.user_id, butler.mobile, butler.name, butler.organization_id)
    if clash.exists():
        raise InvalidValue("mobile", _("Mobile: %(mobile)s is already registered",
                                       mobile=butler.mobile))


def eligible_butlers(city=None):
    """THE rule for who may be given work: active butlers holding licence points (of `city`
    when given). Grab and assign check it; the dispatch board ranks this query."""
    query = Butler.select().where(Butler.status == "active", Butler.licence_points > 0)
    return query if city is None else query.where(Butler.city == city)


def can_take_work(butler):
    """Whether `butler`, as stored now, may be given work (the rule of `eligible_butlers`)."""
    return eligible_butlers().where(Butler.id == butler.id).exists()


def set_butler_status(butler, status, reason, actor):
    if status not in BUTLER_STATUSES:
        raise InvalidValue("status", _("Status: unknown value"))
    reason = reason_text(reason)
    with db.atomic():
        before = {"status": butler.status}
        butler.status = status
        if status != "active":
            butler.is_online = False
        Butler.update(status=status, is_online=butler.is_online).where(
            Butler.id == butler.id).execute()
        audit.record("set_status", butler, before, {"status": status}, note=reason, actor=actor)
    return butler


def deduct_licence_points(butler, points, reason, actor):
    """Deduct licence points for an infraction. At 0 the butler can take no more work. The
    conditional update refuses to go below zero even when two staff deduct at once."""
    points = whole_number(points, "points", _("Licence points"), 1, LICENCE_POINTS_FULL)
    reason = reason_text(reason)
    with db.atomic():
        changed = Butler.update(licence_points=Butler.licence_points - points).where(
            Butler.id == butler.id, Butler.licence_points >= points).execute()
        if not changed:
            left = Butler.select(Butler.licence_points).where(Butler.id == butler.id).scalar()
            raise InvalidValue("points", _("Points: the butler has only %(left)d licence "
                                           "points left", left=left))
        balance = Butler.select(Butler.licence_points).where(Butler.id == butler.id).scalar()
        entry = LicencePointDeduction.create(butler=butler, points=points, balance_after=balance,
                                             reason=reason, actor=actor.id if actor else None,
                                             organization=butler.organization_id)
        audit.record("deduct_licence_points", butler, {"licence_points": balance + points},
                     {"licence_points": balance}, note=reason, actor=actor)
    butler.licence_points = balance
    return entry


def restore_licence_points(butler, reason, actor):
    """A new scoring period: back to the full 12, recorded as a negative deduction."""
    reason = reason_text(reason)
    with db.atomic():
        before = Butler.select(Butler.licence_points).where(Butler.id == butler.id).scalar()
        Butler.update(licence_points=LICENCE_POINTS_FULL).where(Butler.id == butler.id).execute()
        entry = LicencePointDeduction.create(
            butler=butler, points=before - LICENCE_POINTS_FULL, balance_after=LICENCE_POINTS_FULL,
            reason=reason, actor=actor.id if actor else None, organization=butler.organization_id)
        audit.record("restore_licence_points", butler, {"licence_points": before},
                     {"licence_points": LICENCE_POINTS_FULL}, note=reason, actor=actor)
    butler.licence_points = LICENCE_POINTS_FULL
    return entry


def set_refusal_count(butler, new_count, reason, actor):
    """Correct a butler's refusal count by hand (the plan asks for it), with a reason."""
    new_count = whole_number(new_count, "refusal_count", _("Refusal count"), 0, 10000)
    reason = reason_text(reason)
    with db.atomic():
        old = Butler.select(Butler.refusal_count).where(Butler.id == butler.id).scalar()
        Butler.update(refusal_count=new_count).where(Butler.id == butler.id).execute()
        change = RefusalCountChange.create(butler=butler, old_count=old, new_count=new_count,
                                           reason=reason, actor=actor.id if actor else None,
                                           organization=butler.organization_id)
        audit.record("set_refusal_count", butler, {"refusal_count": old},
                     {"refusal_count": new_count}, note=reason, actor=actor)
    butler.refusal_count = new_count
    return change
