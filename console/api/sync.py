"""Data sync (plan 3.13): outside systems pull the orders and users changed since a cursor.

The cursor is the keyset (updated_at, id) of the last row handed out, as an opaque base64
string; a page holds rows strictly after it, oldest change first. Keep the last cursor and
ask again later to get what changed since. Data scope applies as everywhere."""
import base64
import binascii
import datetime as dt
import json

from flask_babel import gettext as _
from peewee import JOIN

from console.api import errors, iso, route
from console.api import schema as s
from console.api.orders import ORDER_SUMMARY, order_summaries
from console.api.schema import N_
from console.common.bounds import parse_id
from console.models import Order, Organization, Role, User, UserRoles
from console.system import rbac

DEFAULT_LIMIT, MAX_LIMIT = 100, 500

SYNC_QUERY = s.obj({
    "cursor": s.string(200, description="`next_cursor` of the previous page; omit to start"),
    "limit": s.integer(minimum=1, maximum=MAX_LIMIT,
                       description=f"rows per page (default {DEFAULT_LIMIT})"),
})
SYNC_USER = s.component("SyncUser", s.obj({
    "id": s.integer(), "email": s.string(), "username": s.string(null=True),
    "phone": s.string(null=True), "full_name": s.string(), "active": s.boolean(),
    "is_deleted": s.boolean(), "organization": s.string(description="organization code"),
    "roles": s.array(s.string()), "created_at": s.timestamp(), "updated_at": s.timestamp(),
}, required=("id", "email", "username", "phone", "full_name", "active", "is_deleted",
             "organization", "roles", "created_at", "updated_at")))
ORDER_PAGE = s.page_of(ORDER_SUMMARY, "SyncOrderPage")
USER_PAGE = s.page_of(SYNC_USER, "SyncUserPage")
DESCRIPTION = ("Rows changed after `cursor`, ordered by (updated_at, id). An empty `items` "
               "with a null `next_cursor` means you are up to date: keep your last cursor.")


def encode_cursor(updated_at, row_id):
    raw = json.dumps([updated_at.isoformat(), row_id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor):
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        moment, row_id = json.loads(raw)
        moment, row_id = dt.datetime.fromisoformat(moment), parse_id(row_id)
    except (ValueError, TypeError, binascii.Error, json.JSONDecodeError):
        row_id = None
    # an id no row can have (beyond 2^63-1) would overflow; ours are naive UTC times
    if row_id is None or moment.tzinfo is not None:
        raise errors.invalid("cursor", _("cursor: not a cursor this API handed out."))
    return moment, row_id


def changed_since(query, model, query_args):
    """One keyset page of `query` after the cursor: (rows, next_cursor or None)."""
    limit = query_args.get("limit", DEFAULT_LIMIT)
    if query_args.get("cursor"):
        moment, row_id = decode_cursor(query_args["cursor"])
        query = query.where((model.updated_at > moment) |
                            ((model.updated_at == moment) & (model.id > row_id)))
    rows = list(query.order_by(model.updated_at, model.id).limit(limit + 1))
    more = len(rows) > limit
    rows = rows[:limit]
    if rows:
        last = rows[-1]
        return rows, encode_cursor(last.updated_at, last.id) if more else None
    return rows, None


@route("/sync/orders", "GET", resource="api.sync.orders", tag="sync", query=SYNC_QUERY,
       responses={200: ORDER_PAGE}, summary=N_("Orders changed since a cursor"),
       description=DESCRIPTION)
def sync_orders(user, query):
    rows, cursor = changed_since(rbac.scoped(Order.select(), Order, user), Order, query)
    return {"items": order_summaries(rows), "next_cursor": cursor}


@route("/sync/users", "GET", resource="api.sync.users", tag="sync", query=SYNC_QUERY,
       responses={200: USER_PAGE}, summary=N_("Users changed since a cursor"),
       description=DESCRIPTION)
def sync_users(user, query):
    base = (User.select(User, Organization.code).join(Organization, JOIN.LEFT_OUTER))
    rows, cursor = changed_since(rbac.scoped(base, User, user), User, query)
    roles = {}
    if rows:
        for link in (UserRoles.select(UserRoles.user, Role.name).join(Role)
                     .where(UserRoles.user.in_([r.id for r in rows])).order_by(Role.name)):
            roles.setdefault(link.user_id, []).append(link.role.name)
    return {"items": [{
        "id": r.id, "email": r.email, "username": r.username, "phone": r.phone,
        "full_name": r.full_name, "active": r.active, "is_deleted": r.is_deleted,
        "organization": r.organization.code, "roles": roles.get(r.id, []),
        "created_at": iso(r.created_at), "updated_at": iso(r.updated_at)} for r in rows],
        "next_cursor": cursor}
