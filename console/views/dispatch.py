"""The dispatch board (调度看板, /admin/dispatch/): the waiting orders of the dispatcher's scope,
oldest first, with waiting time and a countdown kept live by a small JSON poll; choosing an
order shows its ranked candidates part by part and a searchable picker for anyone else; one
click assigns; the batch proposal with its saving applies in one click. The rules are in
console/dispatch/."""
from flask import flash, jsonify, redirect, request, url_for
from flask_admin import expose
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from console import dispatch, people
from console.common.clock import local_time
from console.common.money import format_yuan
from console.db import utcnow
from console.errors import InputError, NotFound
from console.models import Butler, Organization
from console.orders import timeline
from console.orders.states import ACTION_LABELS, ROLE_LABELS
from console.orders.types import ORDER_TYPE_LABELS, ORDER_TYPES
from console.views.base import ConsolePage
from console.views.labels import localized

URGENCY_LABELS = {"board": _l("Not grabbed in time"), "due_soon": _l("Grab window ends soon"),
                  "waiting": _l("Everything waiting")}
PART_LABELS = {"distance": _l("Distance"), "load": _l("Open orders"), "stars": _l("Stars"),
               "refusals": _l("Refusal rate"), "licence": _l("Licence points"),
               "online": _l("Online")}
PROPOSAL_LIMIT = 50  # orders in one batch proposal
CANDIDATES_SHOWN = 15  # the best ones; the picker reaches everyone else


def _whole(value):
    text = (value or "").strip()
    return int(text) if text.isdigit() and len(text) < 12 else None


def _filters(args):
    urgency = args.get("urgency", "board")
    return {"city": _whole(args.get("city")),
            "order_type": args.get("order_type") if args.get("order_type") in ORDER_TYPES
            else None,
            "urgency": urgency if urgency in dispatch.URGENCIES else "board"}


def _row(order, now, cities):
    waited, left = dispatch.clock(order, now)
    city = cities.get(order.city_id)
    return {"order": order, "waited": waited, "left": left,
            "type": ORDER_TYPE_LABELS.get(order.order_type, order.order_type),
            "city": localized(city.name, city.name_en) if city else ""}


class DispatchBoard(ConsolePage):
    elements = {"assign": _l("Assign a butler"), "batch_assign": _l("Apply a batch assignment")}

    @expose("/")
    def index(self):
        filters, now = _filters(request.args), utcnow()
        cities = {c.id: c for c in Organization.select().where(Organization.kind == "city")}
        waiting = dispatch.waiting_orders(current_user, now=now, **filters)
        chosen = next((o for o in waiting if o.id == _whole(request.args.get("order"))), None)
        done = _whole(request.args.get("done"))
        return self.render(
            "dispatch/board.html", rows=[_row(o, now, cities) for o in waiting],
            filters=filters, chosen=chosen, cities=sorted(cities.values(), key=lambda c: c.code),
            order_types=[(t, ORDER_TYPE_LABELS[t]) for t in ORDER_TYPES],
            urgency_labels=URGENCY_LABELS, part_labels=PART_LABELS,
            candidates=dispatch.ranked_candidates(chosen, CANDIDATES_SHOWN) if chosen else [],
            everyone=list(people.eligible_butlers(chosen.city_id).order_by(
                Butler.name_pinyin, Butler.id)) if chosen else [],
            proposal=dispatch.propose(waiting[:PROPOSAL_LIMIT]) if len(waiting) > 1 else None,
            may_assign=self.allowed("assign"), may_batch=self.allowed("batch_assign"),
            done=self._done(done), yuan=format_yuan, clock_url=url_for(
                ".clock", **{k: v for k, v in request.args.items() if k in filters}))

    def _done(self, order_id):
        """The timeline of the order just assigned (shown under the board)."""
        if order_id is None:
            return None
        try:
            order = dispatch.find_order(order_id, current_user)
        except NotFound:  # a stale link: nothing to show
            return None
        return {"order": order, "events": [
            {"at": local_time(e.at, True), "action": ACTION_LABELS.get(e.action, e.action),
             "role": ROLE_LABELS.get(e.actor_role, e.actor_role),
             "who": e.actor.full_name if e.actor else "", "note": e.note}
            for e in timeline(order)]}

    @expose("/clock.json")
    def clock(self):
        """The poll: seconds waited and left for each waiting order, and the count."""
        now = utcnow()
        waiting = dispatch.waiting_orders(current_user, now=now, **_filters(request.args))
        return jsonify({"orders": {str(o.id): dict(zip(("waited", "left"),
                                                       dispatch.clock(o, now), strict=True))
                                   for o in waiting},
                        "count": len(waiting)})

    @expose("/assign", methods=["POST"])
    def assign(self):
        form = request.form
        order_id, butler_id = _whole(form.get("order_id")), _whole(form.get("butler_id"))
        if order_id is None:
            raise InputError("order_id", _l("Order: choose an order on the board."))
        dispatch.assign_from_board(order_id, butler_id, current_user, form.get("note", ""))
        order = dispatch.find_order(order_id, current_user)
        flash(_("Order %(order_no)s: assigned to %(butler)s.", order_no=order.order_no,
                butler=str(order.butler)), "success")
        return redirect(url_for(".index", done=order.id))

    @expose("/batch-assign", methods=["POST"])
    def batch_assign(self):
        pairs = []
        for text in request.form.getlist("pair"):
            order_id, _sep, butler_id = text.partition(":")
            if _whole(order_id) is None or _whole(butler_id) is None:
                raise InputError("pair", _l("Batch: the proposal was not understood; reload "
                                            "the board."))
            pairs.append((_whole(order_id), _whole(butler_id)))
        if not pairs:
            raise InputError("pair", _l("Batch: nothing to assign."))
        results = dispatch.apply_batch(pairs, current_user, request.form.get("note", ""))
        done = sum(1 for _o, _b, error in results if error is None)
        flash(_("Batch assignment: %(done)s of %(total)s orders assigned.", done=done,
                total=len(results)), "success" if done == len(results) else "warning")
        for _o, _b, error in results:
            if error is not None:
                flash(error.message, "warning")
        return redirect(url_for(".index"))


def register(admin):
    admin.add_view(DispatchBoard(name=_l("Dispatch board"), endpoint="dispatch",
                                 url="/admin/dispatch"))
