"""The order list's query: filters, search, keyset paging and a bounded total, built so that
every page costs a few index lookups at a million orders.

- Paging is keyset on (placed_at, id): a page starts after (or before) the cursor row, so page
  5,000 costs what page 1 costs; Flask-Admin's OFFSET reads and drops every row before it.
- Search resolves what was typed — a plate or part of one, a VIN, a mobile or its last four
  digits, a customer's name or its pinyin — to at most SEARCH_BOUND vehicle / customer ids
  first (the people tables: thousands of rows, not the order table), then lists their orders
  through the (vehicle, placed_at) / (customer, placed_at) indexes; order numbers match by
  prefix (a range on the unique index); service codes exactly. No LIKE over the order table.
  Text that names nothing, or too many people, shows no rows and says what to type.
- The total is exact up to TOTAL_BOUND rows (COUNT over at most that many index entries) and
  otherwise shown as a lower bound, or as an estimate when nothing is filtered.
- Customer, vehicle, supplier, butler and city names come in the same query (correlated
  primary-key lookups), never one query per row."""
import datetime as dt
import re
import time
import uuid
from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l
from peewee import JOIN, SQL, Tuple, fn

from console.common.clock import local_midnight_utc
from console.common.money import format_yuan, parse_yuan
from console.db import db, is_postgres
from console.errors import InputError
from console.models import Butler, Customer, Order, Organization, Supplier, Vehicle
from console.orders.states import FAMILY_OF, STATES, states_of, types_of
from console.orders.types import ORDER_TYPE_LABELS, ORDER_TYPES
from console.system import rbac

PAGE_SIZE = 20
TOTAL_BOUND = 10_000
COUNT_BUDGET_S = 0.002  # counting stops here: the total is then shown as "N+"
COUNT_BATCH = 100  # rows per step at first; doubled while steps are quick
ORDER_NO = re.compile(r"^[A-Z]\d{1,14}$")
SERVICE_CODE = re.compile(r"^\d{8}$")
MOBILE = re.compile(r"^1\d{10}$")
PLATE = re.compile(r"^[\u4e00-\u9fff][A-Z][A-Z0-9]{4,6}$")
PLATE_PART = re.compile(r"^(?=.*[A-Z\u4e00-\u9fff])(?=.*\d)[\u4e00-\u9fff]?[A-Z0-9]{2,7}$|"
                        r"^[\u4e00-\u9fff][A-Z]$")  # 沪A, 沪A12, A1234, BF391
VIN = re.compile(r"^[A-HJ-NPR-Z0-9]{17}$")
MOBILE_TAIL = re.compile(r"^\d{4}$")
NAME = re.compile(r"^[\u4e00-\u9fff·]{1,10}$")
PINYIN = re.compile(r"^[A-Z]{2,30}$")
SEARCH_BOUND = 50  # people a search may resolve to: their orders are listed through an index
ALL_STATES = sorted({str(s) for family in STATES.values() for s in family})
OLDEST = (dt.datetime(1970, 1, 1), 0)  # a cursor before every order: "before" it is the last page


class FilterError(InputError):
    """A list filter that cannot be applied; `field` names the query parameter."""


@dataclass
class Filters:
    """What the list shows, parsed from the query string; `errors` name the fields refused."""
    order_type: str = ""
    status: str = ""
    family: str = ""  # the status filter's group: "repair:paid" is paid among repair orders
    city: int | None = None
    supplier: int | None = None
    butler: int | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    amount_min: int | None = None  # fen
    amount_max: int | None = None
    q: str = ""
    after: tuple | None = None
    before: tuple | None = None
    page: int | None = 1
    errors: dict = field(default_factory=dict)

    FIELDS = ("order_type", "status", "city", "supplier", "butler", "date_from", "date_to",
              "amount_min", "amount_max", "q")

    @property
    def refused(self):
        """The filters (not the page links) that could not be applied: {field: message}."""
        return {name: message for name, message in self.errors.items() if name in self.FIELDS}

    @property
    def narrowed(self):
        """Whether anything beyond the data scope limits the rows."""
        return any(getattr(self, f) not in (None, "") for f in self.FIELDS)

    def args(self, **override):
        """The query string of these filters (cursor and page left to `override`)."""
        status = f"{self.family}:{self.status}" if self.family and self.status else self.status
        values = {"order_type": self.order_type, "status": status, "city": self.city,
                  "supplier": self.supplier, "butler": self.butler,
                  "date_from": self.date_from.isoformat() if self.date_from else None,
                  "date_to": self.date_to.isoformat() if self.date_to else None,
                  "amount_min": format_yuan(self.amount_min, symbol=False, grouping=False),
                  "amount_max": format_yuan(self.amount_max, symbol=False, grouping=False),
                  "q": self.q}
        values.update(override)
        return {k: v for k, v in values.items() if v not in (None, "")}


# ---- parsing -------------------------------------------------------------------------------
def parse(args):
    filters = Filters()
    readers = {"order_type": _choice(ORDER_TYPES, _l("Type")),
               "status": _status, "city": _id(_l("City")),
               "supplier": _id(_l("Supplier")), "butler": _id(_l("Butler")),
               "date_from": _date(_l("Placed from")), "date_to": _date(_l("Placed to")),
               "amount_min": _money(_l("Amount from")), "amount_max": _money(_l("Amount to")),
               "after": _cursor(_l("Page")), "before": _cursor(_l("Page")),
               "page": _page}
    for name, read in readers.items():
        raw = (args.get(name) or "").strip()
        if not raw:
            continue
        try:
            setattr(filters, name, read(raw))
        except InputError as exc:
            filters.errors[name] = exc.message
    if isinstance(filters.status, tuple):
        filters.family, filters.status = filters.status
    elif filters.status and filters.order_type in FAMILY_OF:
        filters.family = FAMILY_OF[filters.order_type]
    filters.q = " ".join((args.get("q") or "").split())[:40]
    if filters.status and filters.order_type and (
            filters.status not in states_of(filters.order_type)
            or filters.family not in ("", FAMILY_OF[filters.order_type])):
        filters.errors["status"] = _l("Status: %(type)s orders are never in this state.",
                                      type=ORDER_TYPE_LABELS[filters.order_type])
        filters.status = filters.family = ""
    if not filters.after and not filters.before:
        filters.page = 1
    return filters


def _choice(allowed, label):
    def read(raw):
        if raw not in allowed:
            raise FilterError("", _l("%(label)s: unknown value %(value)r.", label=label,
                                     value=raw[:30]))
        return raw
    return read


def _status(raw):
    """"paid", or "repair:paid" (paid among the orders of the repair family) as (family,
    state)."""
    family, _sep, state = raw.rpartition(":")
    if state not in ALL_STATES or (family and (family not in STATES or state not in {
            str(s) for s in STATES[family]})):
        raise FilterError("", _l("%(label)s: unknown value %(value)r.", label=_l("Status"),
                                 value=raw[:30]))
    return (family, state) if family else state


def _id(label):
    def read(raw):
        if not raw.isdigit() or len(raw) > 12:
            raise FilterError("", _l("%(label)s: choose from the list.", label=label))
        return int(raw)
    return read


def _date(label):
    def read(raw):
        try:
            return dt.date.fromisoformat(raw)
        except ValueError:
            raise FilterError("", _l("%(label)s: a date like 2026-01-31.", label=label)) from None
    return read


def _money(label):
    def read(raw):
        return parse_yuan(raw, "", label)
    return read


def _cursor(label):
    def read(raw):
        stamp, _sep, row_id = raw.rpartition("~")
        try:
            return dt.datetime.fromisoformat(stamp), int(row_id)
        except ValueError:
            raise FilterError("", _l("%(label)s: the link is damaged; showing the first page.",
                                     label=label)) from None
    return read


def _page(raw):
    return int(raw) if raw.isdigit() and len(raw) < 9 else None


def cursor_text(placed_at, row_id):
    return f"{placed_at.isoformat()}~{row_id}"


# ---- the query -------------------------------------------------------------------------------
SEARCH_HELP = _l("Search by order number (or its type letter and date, e.g. M20261124), "
                  "8-digit service code, plate or part of one (沪A12, A1234), VIN, mobile or "
                  "its last 4 digits, or the customer's name or its pinyin (zhangwei, zw).")


def search_condition(q):
    """The indexed condition for a search box text. Raises FilterError, with what to type,
    when the text is none of the searchable kinds, names nobody, or names too many people."""
    text = q.replace(" ", "").upper()
    if MOBILE.match(text):
        return _people(Order.customer, Customer.mobile == text, q)
    if SERVICE_CODE.match(text):
        return Order.service_code == text
    if ORDER_NO.match(text) and len(text) >= 9:
        if len(text) == 15:
            return Order.order_no == text
        # type letter and day at least: one day's orders to sort at most
        return (Order.order_no >= text) & (Order.order_no < text + "~")
    if VIN.match(text):
        return _people(Order.vehicle, Vehicle.vin == text, q)
    if PLATE.match(text):
        return _people(Order.vehicle, Vehicle.plate == text, q)
    if MOBILE_TAIL.match(text):
        return _people(Order.customer, Customer.mobile.endswith(text), q)
    if PLATE_PART.match(text):
        plates = Vehicle.plate.startswith(text) if NAME.match(text[0]) else \
            Vehicle.plate.contains(text)
        found = _people(Order.vehicle, plates, q)
        if found is None and ORDER_NO.match(text):  # the beginning of an order number?
            raise FilterError("q", _l("Search: no plate contains %(text)s, and an order number "
                                      "is searched from its type letter and whole date, e.g. "
                                      "M20261124.", text=q))
        return found
    if NAME.match(text):
        return _people(Order.customer, Customer.name.contains(text), q)
    if PINYIN.match(text):
        pinyin = text.lower()  # "zhangwei zw": the full pinyin, then the initials
        return _people(Order.customer, Customer.name_pinyin.startswith(pinyin)
                       | Customer.name_pinyin.contains(" " + pinyin), q)
    raise FilterError("q", _l("Search: %(text)s is none of the things the box looks for. "
                              "%(help)s", text=q, help=SEARCH_HELP))


def _people(order_field, condition, q):
    """`order_field IN (the ids of the customers / vehicles matching condition)`, at most
    SEARCH_BOUND of them (deleted ones too: their orders stay findable); None when nobody
    matches."""
    model = order_field.rel_model
    ids = [row for (row,) in model.select(model.id).where(condition)
           .limit(SEARCH_BOUND + 1).tuples()]
    if not ids:  # no rows, as when the person's orders are outside the user's scope
        return None
    if len(ids) > SEARCH_BOUND:
        raise FilterError("q", _l("Search: more than %(count)s match %(text)s; type more of "
                                  "it.", count=SEARCH_BOUND, text=q))
    return order_field == ids[0] if len(ids) == 1 else order_field.in_(ids)


def scope_hint(user):
    """The data scope's organizations narrowed to the ones each column can hold — a city for
    `city`, a supplier's own node for `supplier_org` — so that one index serves the rows in
    page order. rbac's condition (`city IN subtree OR supplier_org IN subtree`) makes SQLite
    merge both indexes and sort every matching row: 35 ms for a supplier at a million orders.
    It is added to rbac's condition, never instead of it, so it can only narrow."""
    grants = rbac.grants_for(user)
    if grants.scope == "own":
        return Order.customer_user == grants.user_id
    orgs = (Organization.select(Organization.id, Organization.kind, Supplier.id)
            .join(Supplier, JOIN.LEFT_OUTER, on=(Supplier.organization == Organization.id)))
    orgs = orgs.where(Organization.path.startswith(grants.org_path)) \
        if grants.scope == "org_and_below" else orgs.where(Organization.id == grants.org_id)
    orgs = list(orgs.tuples())
    cities = [org for org, kind, _shop in orgs if kind == "city"]
    shops = [org for org, _kind, shop in orgs if shop is not None]
    hint = [(Order.city == cities[0]) if len(cities) == 1 else Order.city.in_(cities)] \
        if cities else []
    hint += [(Order.supplier_org == shops[0]) if len(shops) == 1 else
             Order.supplier_org.in_(shops)] if shops else []
    if not hint:
        return Order.id < 0  # no city and no shop in scope: nothing to show
    return hint[0] if len(hint) == 1 else hint[0] | hint[1]


def conditions(filters, user):
    """WHERE terms for the filters and the user's data scope; None in the list means the
    filters cannot match any row."""
    terms = []
    scope = rbac.scope_condition(Order, user)
    if scope is not None:
        # rbac's condition, kept as a row filter: wrapped, planners neither merge two indexes
        # for its OR and sort every match, nor multiply its selectivity into a wrong
        # estimate; the hint picks the index that serves the page in order
        terms.append(fn.COALESCE(scope, False))
        terms.append(scope_hint(user))
    if filters.order_type:
        terms.append(Order.order_type == filters.order_type)
    if filters.status:
        terms.append(Order.status == filters.status)
    if filters.family and not filters.order_type:
        types = types_of(filters.family)
        terms.append(Order.order_type == types[0] if len(types) == 1 else
                     Order.order_type.in_(types))
    if filters.city:
        terms.append(Order.city == filters.city)
    if filters.supplier:
        terms.append(Order.supplier == filters.supplier)
    if filters.butler:
        terms.append(Order.butler == filters.butler)
    if filters.date_from:
        terms.append(Order.placed_at >= local_midnight_utc(filters.date_from))
    if filters.date_to:
        terms.append(Order.placed_at < local_midnight_utc(
            filters.date_to + dt.timedelta(days=1)))
    amount = fn.COALESCE(Order.final_fen, Order.estimate_fen)
    if filters.amount_min is not None:
        terms.append(amount >= filters.amount_min)
    if filters.amount_max is not None:
        terms.append(amount <= filters.amount_max)
    if filters.q:
        try:
            terms.append(search_condition(filters.q))
        except FilterError as exc:
            filters.errors["q"] = exc.message
    return terms


def _where(query, terms):
    return query.where(*terms) if terms else query


@dataclass
class Page:
    rows: list
    has_next: bool
    has_prev: bool
    total: int
    total_kind: str  # exact, at_least, estimate
    first_cursor: str | None = None
    last_cursor: str | None = None


def fetch(filters, user, size=PAGE_SIZE):
    """One page of orders with the names shown beside them, and the total."""
    terms = conditions(filters, user)
    # a filter that cannot be applied shows nothing, not everything; None: nothing can match
    if filters.refused or any(term is None for term in terms):
        return Page([], False, False, 0, "exact")
    rows, has_next, has_prev = _rows(terms, filters, size)
    total, kind = _total(terms)
    page = Page(rows, has_next, has_prev, total, kind)
    if rows:
        page.first_cursor = cursor_text(rows[0]["placed_at"], rows[0]["id"])
        page.last_cursor = cursor_text(rows[-1]["placed_at"], rows[-1]["id"])
    return page


def _name(column, key):
    """A correlated lookup of one column by primary key, selected beside each order row."""
    model = column.model
    return model.select(column).where(model._meta.primary_key == key)


def _rows(terms, filters, size):
    # The names are correlated primary-key lookups rather than five LEFT JOINs: the same
    # single query, but PostgreSQL plans one table instead of ordering six (3.5 ms of
    # planning against 0.4 ms of execution at a million orders).
    key = Tuple(Order.placed_at, Order.id)
    query = Order.select(
        Order.id, Order.order_no, Order.order_type, Order.status, Order.placed_at,
        Order.estimate_fen, Order.final_fen, Order.paid_fen, Order.is_open, Order.needs_butler,
        _name(Customer.name, Order.customer).alias("customer_name"),
        _name(Customer.mobile, Order.customer).alias("customer_mobile"),
        _name(Vehicle.plate, Order.vehicle).alias("plate"),
        _name(Supplier.name, Order.supplier).alias("supplier_name"),
        _name(Butler.name, Order.butler).alias("butler_name"),
        _name(Organization.name, Order.city).alias("city_name"),
        _name(Organization.name_en, Order.city).alias("city_name_en"))
    query = _where(query, terms)
    if filters.before:  # walking back: ascending from the cursor, shown reversed
        query = query.where(key > Tuple(*filters.before)).order_by(
            Order.placed_at.asc(), Order.id.asc())
    else:
        if filters.after:
            query = query.where(key < Tuple(*filters.after))
        query = query.order_by(Order.placed_at.desc(), Order.id.desc())
    rows = list(query.limit(size + 1).dicts())
    more = len(rows) > size
    rows = rows[:size]
    if filters.before:
        rows.reverse()
        return rows, filters.before != OLDEST, more
    return rows, more, filters.after is not None


def _total(terms):
    """(count, kind): "exact"; "at_least" — more match than were counted within the bound or
    the time budget; or "estimate" — from the id range when nothing is filtered (orders are
    never deleted)."""
    if not terms:
        if is_postgres():  # one round trip; SQLite reads both ends only for a lone MIN/MAX
            low, high = Order.select(fn.MIN(Order.id), fn.MAX(Order.id)).scalar(as_tuple=True)
        else:
            low = Order.select(fn.MIN(Order.id)).scalar()
            high = Order.select(fn.MAX(Order.id)).scalar()
        if high is None:
            return 0, "exact"
        if high - low + 1 > TOTAL_BOUND:
            return high - low + 1, "estimate"
    query = _where(Order.select(SQL("1")), terms).limit(TOTAL_BOUND + 1)
    count, complete = _count_within_budget(query)
    if not complete or count > TOTAL_BOUND:
        return min(count, TOTAL_BOUND), "at_least"
    return count, "exact"


def _count_within_budget(query):
    """Step through at most TOTAL_BOUND + 1 matching rows, stopping at the time budget: the
    rows come as they are found (SQLite steps its statement; PostgreSQL a cursor fetched in
    batches), so what was counted is a true lower bound."""
    sql, params = query.sql()
    if is_postgres():
        name = f"order_total_{uuid.uuid4().hex[:12]}"
        with db.atomic():  # a cursor lives in a transaction (or in the caller's savepoint)
            db.execute_sql(f"DECLARE {name} NO SCROLL CURSOR FOR {sql}", params)
            try:
                return _counted(lambda size: db.execute_sql(
                    f"FETCH FORWARD {size} FROM {name}").fetchall())
            finally:
                db.execute_sql(f"CLOSE {name}")
    cursor = db.execute_sql(sql, params)
    try:
        return _counted(cursor.fetchmany)
    finally:
        cursor.close()


def _counted(fetch):
    """(rows counted, whether that was all of them) within COUNT_BUDGET_S. Steps start small
    and double while they are quick: a PostgreSQL FETCH costs a round trip, and a slow filter
    must not overshoot the budget by a whole large step."""
    started = time.perf_counter()
    deadline = started + COUNT_BUDGET_S
    count, size = 0, COUNT_BATCH
    while True:
        step_started = time.perf_counter()
        batch = len(fetch(size))
        count += batch
        now = time.perf_counter()
        if batch < size:
            return count, True
        if now > deadline:
            return count, False
        if now - step_started < COUNT_BUDGET_S / 8:
            size = min(size * 2, 2000)


def scoped_choices(model, user, label, limit=300):
    """(id, text) choices of `model` rows the user may see, for the filter selects."""
    query = rbac.scoped(model.select(model.id, label), model, user)
    return [(row.id, getattr(row, label.name)) for row in query.order_by(label).limit(limit)]


def visible_cities(user):
    """(id, name, English name) of the cities the user may filter on."""
    query = rbac.scoped(Organization.select(Organization.id, Organization.name,
                                            Organization.name_en),
                        Organization, user).where(Organization.kind == "city")
    return [(o.id, o.name, o.name_en) for o in query.order_by(Organization.sort,
                                                              Organization.id)]
