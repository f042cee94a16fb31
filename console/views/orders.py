"""Order console pages: the order list (keyset paging, filters, indexed search, bounded total),
the order detail with its timeline and the buttons for exactly the moves the user may make now,
the move endpoints, and the printable work order (工单).

Every page applies the user's data scope; an order outside it answers 404. Each move button is
an element resource (`orders.action.<move>`): without it the button is hidden and a typed POST
answers 403. The move itself is the order engine's: a refused move is flashed, nothing changes."""
from decimal import Decimal

from flask import abort, flash, jsonify, redirect, request, url_for
from flask_admin import expose
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup, escape
from peewee import JOIN

from console import orders, people
from console.common.bounds import parse_id
from console.common.clock import local_time
from console.common.money import format_yuan, parse_yuan
from console.db import utcnow
from console.errors import InputError
from console.models import (
    Butler,
    CarModel,
    Complaint,
    Customer,
    Order,
    OrderEvent,
    OrderLine,
    Organization,
    ProgressReport,
    ReworkRequest,
    Supplier,
    User,
    Vehicle,
)
from console.orders import aftersales
from console.orders import lists as order_list
from console.orders.states import (
    ACTION_LABELS,
    CUSTOMER,
    DISPATCHER,
    FAMILY_LABELS,
    FAMILY_OF,
    ROLE_LABELS,
    SERVICE,
    STATE_LABELS,
    STATES,
    SUPPLIER,
    TRANSITIONS,
)
from console.orders.types import ORDER_TYPE_LABELS
from console.system import rbac
from console.views.base import ConsolePage
from console.views.labels import localized

STAFF_ORDER_ROLES = {SUPPLIER, DISPATCHER, SERVICE}
# moves staff make in the console (others are the customer's, the butler's or the system's)
CONSOLE_MOVES = sorted({action for (_f, _s, action), (_to, roles) in TRANSITIONS.items()
                        if roles & STAFF_ORDER_ROLES})
MOVE_FIELDS = {  # the inputs a move's form asks for, beyond the note
    "assign": ("butler", "reason"), "cancel": ("reason",), "request_rework": ("reason",),
    "quote": ("lines",), "post_progress": ("words",), "value": ("amount",), "settle": ("amount",),
    "issue_policy": ("policy_no",), "ship": ("tracking_no",), "refund": ("reason",),
}
CONFIRMED_MOVES = {"refund"}  # moves made on a confirmation page that says what they undo
LINE_KIND_LABELS = {"labour": _l("Labour"), "part": _l("Part"), "fee": _l("Fee"),
                    "discount": _l("Discount")}
QUOTE_ROWS = 4
STATE_STYLES = {"cancelled": "secondary", "refunded": "secondary", "refused": "warning",
                "closed": "dark", "paid": "success", "awaiting_grab": "danger",
                "requested": "danger"}


def order_facts(order):
    """The type-specific details of an order as (label, text) pairs."""
    facts = []
    details = order.details or {}
    if "distance_m" in details:
        facts.append((_("Distance"), f"{Decimal(details['distance_m']) / 1000:.1f} km"))
    if "months" in details:
        facts.append((_("VIP months"), details["months"]))
    if details.get("vip_until"):
        facts.append((_("VIP until"), details["vip_until"][:10]))
    reversed_vip = details.get("vip_reversed")
    if reversed_vip:
        facts.append((_("VIP taken back by the refund"), _(
            "membership until %(before)s, now %(after)s", before=reversed_vip["from"][:10],
            after=reversed_vip["to"][:10] if reversed_vip["to"] else _("ended"))))
    for key, label in (("policy_no", _("Policy number")), ("tracking_no", _("Tracking number"))):
        if details.get(key):
            facts.append((label, details[key]))
    if order.refusal_count:
        facts.append((_("Refusals"), order.refusal_count))
    return facts


def refunded_fen(order):
    """What the order records as refunded (orders refunded before it was kept: what was
    paid), or None when it was not refunded."""
    if "refunded_fen" in (order.details or {}):
        return order.details["refunded_fen"]
    return order.paid_fen if order.status == "refunded" else None


_LABELS = {}  # locale -> labels translated once: a list page would otherwise translate ~100


def labels():
    """Type, state and move labels, and state badges, in the request's language."""
    locale = str(get_locale())
    if locale not in _LABELS:
        states = {code: str(text) for code, text in STATE_LABELS.items()}
        _LABELS[locale] = {
            "type_labels": {code: str(text) for code, text in ORDER_TYPE_LABELS.items()},
            "state_labels": states,
            "badges": {code: Markup(f'<span class="badge badge-{STATE_STYLES.get(code, "info")}'
                                    f'">{escape(text)}</span>') for code, text in states.items()},
            "action_labels": {code: str(text) for code, text in ACTION_LABELS.items()},
            "role_labels": {code: str(text) for code, text in ROLE_LABELS.items()},
            "line_kinds": {code: str(text) for code, text in LINE_KIND_LABELS.items()},
        }
    return _LABELS[locale]


def state_badge(status):
    return labels()["badges"].get(status) or Markup(f'<span class="badge badge-info">'
                                                    f'{escape(status)}</span>')


class OrderPages(ConsolePage):
    elements = {f"action.{move}": ACTION_LABELS[move] for move in CONSOLE_MOVES}

    # ---- the list --------------------------------------------------------------------------
    @expose("/")
    def index(self):
        filters = order_list.parse(request.args)
        page = order_list.fetch(filters, current_user)
        for name, problem in filters.errors.items():  # a damaged page link: the first page
            if name not in filters.refused:
                flash(problem, "error")
        return self.render("orders/list.html", filters=filters, page=page,
                           refused={k: str(v) for k, v in filters.refused.items()},
                           search_help=str(order_list.SEARCH_HELP),
                           links=self._links(filters, page),
                           statuses=self._statuses(filters),
                           cities=[(city, localized(name, name_en)) for city, name, name_en
                                   in order_list.visible_cities(current_user)],
                           picked=self._picked(filters), **self._helpers())

    def _links(self, filters, page):
        def url(**cursor):
            return url_for(".index", **filters.args(**cursor))
        number = filters.page
        return {
            "first": url() if page.has_prev else None,
            "prev": url(before=page.first_cursor, page=number - 1 if number and number > 1
                        else None) if page.has_prev and page.first_cursor else None,
            "next": url(after=page.last_cursor, page=number + 1 if number else None)
            if page.has_next and page.last_cursor else None,
            "last": url(before=order_list.cursor_text(*order_list.OLDEST))
            if page.has_next else None,
        }

    @staticmethod
    def _statuses(filters):
        """[(group label, [(value, label)])]: each order family's states in the order of its
        lifecycle; only the chosen type's family once a type is chosen."""
        states = labels()["state_labels"]
        families = [FAMILY_OF[filters.order_type]] if filters.order_type else list(STATES)
        return [(str(FAMILY_LABELS[family]),
                 [(f"{family}:{state}", states.get(str(state), str(state)))
                  for state in STATES[family]]) for family in families]

    @staticmethod
    def _picked(filters):
        """Names of the supplier / butler filtered on, for the select boxes' initial text
        (only names the user may see)."""
        picked = {}
        for name, model in (("supplier", Supplier), ("butler", Butler)):
            chosen = getattr(filters, name)
            if chosen:
                row = rbac.scoped(model.select(model.name), model, current_user).where(
                    model.id == chosen).first()
                picked[name] = [chosen, row.name if row else "?"]
        return picked

    @staticmethod
    def _helpers():
        return {"yuan": format_yuan, "local_time": local_time, "state_badge": state_badge,
                **labels()}

    @expose("/lookup/<kind>/")
    def lookup(self, kind):
        """Suppliers or butlers in the user's scope whose name contains the typed text
        (a few hundred rows, not the order table), for the filter boxes."""
        model = {"supplier": Supplier, "butler": Butler}.get(kind)
        if model is None:
            abort(404)
        term = (request.args.get("query") or "").strip()[:30]
        query = rbac.scoped(model.select(model.id, model.name), model, current_user)
        if term:
            query = query.where(model.name.contains(term))
        limit = min(request.args.get("limit", 10, type=int) or 10, 50)
        offset = max(request.args.get("offset", 0, type=int) or 0, 0)
        rows = query.order_by(model.name, model.id).offset(offset).limit(limit)
        return jsonify([[row.id, row.name] for row in rows])

    # ---- one order -------------------------------------------------------------------------
    def _order(self, order_id):
        """The order with its people in one query, or 404 when outside the user's scope."""
        City = Organization.alias("city")
        query = (Order.select(Order, Customer, Vehicle, CarModel, Supplier, Butler, City)
                 .join(Customer, JOIN.LEFT_OUTER, on=(Order.customer == Customer.id))
                 .switch(Order).join(Vehicle, JOIN.LEFT_OUTER, on=(Order.vehicle == Vehicle.id))
                 .join(CarModel, JOIN.LEFT_OUTER, on=(Vehicle.car_model == CarModel.id))
                 .switch(Order).join(Supplier, JOIN.LEFT_OUTER,
                                     on=(Order.supplier == Supplier.id))
                 .switch(Order).join(Butler, JOIN.LEFT_OUTER, on=(Order.butler == Butler.id))
                 .switch(Order).join(City, JOIN.LEFT_OUTER, on=(Order.city == City.id),
                                     attr="city")
                 .where(Order.id == order_id))
        order = rbac.scoped(query, Order, current_user).first()
        if order is None:
            abort(404)
        return order

    def _story(self, order):
        events = list(OrderEvent.select(OrderEvent, User).join(User, JOIN.LEFT_OUTER,
                                                               on=(OrderEvent.actor == User.id))
                      .where(OrderEvent.order == order.id)
                      .order_by(OrderEvent.at, OrderEvent.id))
        lines = list(OrderLine.select().where(OrderLine.order == order.id)
                     .order_by(OrderLine.id))
        return {
            "events": events,
            "lines": {source: [line for line in lines if line.source == source]
                      for source in ("estimate", "final", "change")},
            "progress": list(ProgressReport.select().where(ProgressReport.order == order.id)
                             .order_by(ProgressReport.at)),
            "complaints": list(Complaint.select().where(Complaint.order == order.id)
                               .order_by(Complaint.created_at)),
            "reworks": list(ReworkRequest.select().where(ReworkRequest.order == order.id)
                            .order_by(ReworkRequest.created_at)),
        }

    def _moves(self, order):
        """The moves shown as buttons: the engine's moves for this user now, limited to the
        buttons the user's permissions hold."""
        return [move for move in orders.available_actions(order, current_user)
                if move in CONSOLE_MOVES and self.allowed(f"action.{move}")]

    @expose("/<int:order_id>/")
    def detail(self, order_id):
        order = self._order(order_id)
        moves = self._moves(order)
        roles = orders.order_roles(order, current_user)
        butlers = self._butlers(order) if "assign" in moves else []
        return self.render("orders/detail.html", order=order, moves=moves,
                           move_fields=MOVE_FIELDS, butlers=butlers,
                           quote_rows=range(QUOTE_ROWS),
                           show_code=SUPPLIER not in roles or CUSTOMER in roles,
                           facts=order_facts(order), refunded=refunded_fen(order),
                           due=order.amount_due_fen, **self._story(order), **self._helpers())

    @staticmethod
    def _butlers(order):
        """Butlers of the order's city who may take work, online first."""
        query = people.eligible_butlers(order.city_id)
        return list(query.order_by(Butler.is_online.desc(), Butler.refusal_count,
                                   Butler.stars.desc(), Butler.id).limit(100))

    @expose("/<int:order_id>/refund/")
    def confirm_refund(self, order_id):
        """The refund's confirmation step: what it records and takes back, and the reason."""
        if not self.allowed("action.refund"):
            abort(403)
        order = self._order(order_id)
        if "refund" not in self._moves(order):
            flash(_("Refund: not possible for this order now."), "error")
            return redirect(url_for(".detail", order_id=order.id))
        return self.render("orders/refund.html", order=order, preview=orders.refund_preview(order),
                           **self._helpers())

    @expose("/<int:order_id>/work-order/")
    def work_order(self, order_id):
        order = self._order(order_id)
        return self.render("orders/work_order.html", order=order, printed_by=current_user,
                           now=utcnow(), **self._story(order),
                           **self._helpers())

    # ---- moves -----------------------------------------------------------------------------
    @expose("/<int:order_id>/act/<move>/", methods=["POST"])
    def act(self, order_id, move):
        if move not in CONSOLE_MOVES:
            abort(404)
        if not self.allowed(f"action.{move}"):
            abort(403)
        order = self._order(order_id)
        if move in CONFIRMED_MOVES and request.form.get("confirmed") != "1":
            return redirect(url_for(".confirm_refund", order_id=order.id))
        self._apply(order, move, request.form)  # a refusal is shown by handle_view_exception
        flash(_("%(move)s: done. The order is now %(state)s.", move=ACTION_LABELS[move],
                state=STATE_LABELS.get(order.status, order.status)), "success")
        return redirect(url_for(".detail", order_id=order.id))

    def _apply(self, order, move, form):
        user, note = current_user._get_current_object(), form.get("note", "")
        if move == "assign":
            butler = Butler.get_or_none(Butler.id == _whole(form.get("butler"), "butler",
                                                            _("Butler")))
            return orders.assign(order, butler, user, form.get("reason", ""))
        if move == "cancel":
            return orders.cancel(order, user, form.get("reason", ""))
        if move == "refund":
            return orders.refund(order, user, form.get("reason", ""))
        if move == "quote":
            return orders.quote(order, user, _quote_lines(form), note)
        if move == "finish_repair":
            return orders.finish_repair(order, user, note)
        if move == "request_rework":
            return aftersales.request_rework(order, user, form.get("reason", ""))
        if move == "post_progress":
            return aftersales.post_progress(order, user, form.get("words", ""))
        inputs = {}
        if "amount" in MOVE_FIELDS.get(move, ()):
            inputs["final_fen"] = parse_yuan(form.get("amount"), "amount", _("Amount"))
        for name in ("policy_no", "tracking_no"):
            if name in MOVE_FIELDS.get(move, ()):
                inputs[name] = form.get(name, "")
        return orders.advance(order, move, user, note, **inputs)


# ---- form input --------------------------------------------------------------------------
def _bad(field, message):
    return InputError(field, message)


def _whole(raw, field, label):
    value = parse_id(raw or "")  # beyond 2^63-1 no row has it, and the driver overflows
    if value is None:
        raise _bad(field, _("%(label)s: choose one.", label=label))
    return value


def _quote_lines(form):
    """The quote form's rows (kind, name, quantity, unit price in yuan); empty rows skipped."""
    lines = []
    for number in range(QUOTE_ROWS):
        name = (form.get(f"line-{number}-name") or "").strip()
        if not name:
            continue
        label = _("Line %(number)s", number=number + 1)
        qty = _whole(form.get(f"line-{number}-qty") or "1", f"lines[{number + 1}]", label)
        lines.append({"kind": form.get(f"line-{number}-kind", ""), "name": name, "qty": qty,
                      "unit_fen": parse_yuan(form.get(f"line-{number}-unit"),
                                       f"lines[{number + 1}]", label)})
    return lines


def register(admin):
    admin.add_view(OrderPages(name=_l("Orders"), endpoint="orders", url="/admin/orders"))
