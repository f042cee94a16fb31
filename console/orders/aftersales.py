"""After-sales: progress reports during repair (a cost change waits for the customer's
confirmation before it touches the final price), rework requests that send an order back to
repair, complaints with their handling, follow-up visits (回访), and each vehicle's service
history across orders. The moves go through `orders.transition()` like every other."""
from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l
from peewee import fn

from console.common.bounds import parse_id
from console.common.money import MAX_FEN, format_yuan
from console.common.tx import writing
from console.db import utcnow
from console.models import (
    COMPLAINT_STATUSES,
    Complaint,
    FollowUpVisit,
    Order,
    OrderLine,
    ProgressReport,
    ReworkRequest,
    Supplier,
    UploadedFile,
)
from console.orders.engine import (
    OrderInputError,
    OrderStateError,
    fen,
    plain_text,
    transition,
)
from console.system import audit


# ---- progress reports and cost changes ---------------------------------------------------
def post_progress(order, supplier_user, words, photos=(), cost_change_fen=0, lines=()):
    """A shop's progress report. A non-zero cost change (with the lines that explain it) is
    pending until the customer confirms or rejects it; the final price moves only on confirm."""
    from console.orders.operations import check_lines
    words = plain_text(words, "text")
    cost_change_fen = fen(cost_change_fen, "cost_change_fen", minimum=None)
    photos = _own_photos(photos, supplier_user)
    lines = check_lines(lines) if lines else []
    if lines and sum(line["amount_fen"] for line in lines) != cost_change_fen:
        raise OrderInputError("lines", _l("Lines: they must add up to the cost change."))
    if abs(_price_if_all_confirmed(order) + cost_change_fen) > MAX_FEN:
        raise OrderInputError("cost_change_fen", _l(
            "Cost change: the order would come to more than %(maximum)s.",
            maximum=format_yuan(MAX_FEN)))
    with writing():
        transition(order, "post_progress", supplier_user, note=words)
        report = ProgressReport.create(
            order=order.id, author=supplier_user.id, text=words, photos=photos,
            cost_change_fen=cost_change_fen,
            cost_change_status="pending" if cost_change_fen else "none",
            proposed_lines=lines)
    return report


def _price_if_all_confirmed(order):
    pending = ProgressReport.select(fn.SUM(ProgressReport.cost_change_fen)).where(
        ProgressReport.order == order.id, ProgressReport.cost_change_status == "pending")
    return (Order.get_by_id(order.id).final_fen or 0) + (pending.scalar() or 0)


def _own_photos(photos, user):
    """The photo ids of a report: each an image file `user` uploaded, listed once (any other
    number would show someone else's file, or nothing, on the order)."""
    ids = [parse_id(p) if isinstance(p, int) else None for p in photos or ()]
    if None in ids or len(set(ids)) < len(ids):
        raise OrderInputError("photos", _l("Photos: the ids of uploaded files, each once."))
    found = {row.id for row in UploadedFile.select(UploadedFile.id).where(
        UploadedFile.id.in_(ids), UploadedFile.uploaded_by == user.id,
        UploadedFile.content_type.startswith("image/"))} if ids else set()
    strange = [i for i in ids if i not in found]
    if strange:
        raise OrderInputError("photos", _l("Photos: %(id)s is not an image you uploaded.",
                                           id=strange[0]))
    return ids


def _pending(report):
    report = ProgressReport.get_by_id(report.id)
    if report.cost_change_status != "pending":
        raise OrderStateError("not_possible", _l("No cost change waits for a decision."))
    return report


def confirm_cost_change(report, customer_user):
    """The customer accepts the cost change: the final price moves and the change's lines
    join the order's lines. Only one decision per report counts (conditional update)."""
    order = Order.get_by_id(report.order_id)
    with writing():
        report = _pending(report)
        transition(order, "confirm_cost_change", customer_user, note=report.text,
                   changes=lambda current: {"final_fen": (current.final_fen or 0)
                                            + report.cost_change_fen})
        _decide(report, "confirmed", customer_user)
        lines = report.proposed_lines or [dict(
            kind="fee", name=report.text[:120], qty=1, unit_fen=abs(report.cost_change_fen),
            amount_fen=report.cost_change_fen)]
        OrderLine.insert_many([dict(line, order=order.id, source="change", progress=report.id)
                               for line in lines]).execute()
    return report


def reject_cost_change(report, customer_user, reason=""):
    order = Order.get_by_id(report.order_id)
    with writing():
        report = _pending(report)
        transition(order, "reject_cost_change", customer_user,
                   note=plain_text(reason, "reason", False))
        _decide(report, "rejected", customer_user)
    return report


def _decide(report, status, user):
    decided = ProgressReport.update(cost_change_status=status, decided_at=utcnow(),
                                    decided_by=user.id).where(
        ProgressReport.id == report.id, ProgressReport.cost_change_status == "pending").execute()
    if not decided:
        raise OrderStateError("state_changed", _l("The cost change was decided meanwhile."))
    report.cost_change_status = status


# ---- rework, complaints, follow-ups ------------------------------------------------------
def request_rework(order, user, reason):
    """返修: back to repair; when the shop finishes, the order goes on to paid without a new
    payment unless a confirmed cost change added to the price."""
    reason = plain_text(reason, "reason")
    with writing():
        transition(order, "request_rework", user, note=reason)
        return ReworkRequest.create(order=order.id, by=user.id, reason=reason)


def complain(order, user, words):
    """A complaint (any time after payment): recorded as an order event and a complaint that
    customer service handles."""
    words = plain_text(words, "text")
    with writing():
        transition(order, "complain", user, note=words)
        return Complaint.create(order=order.id, city=order.city_id, by=user.id, text=words)


def handle_complaint(complaint, handler, status, resolution=""):
    if status not in COMPLAINT_STATUSES or status == "open":
        raise OrderInputError("status", _l("Status: handling or resolved."))
    resolution = plain_text(resolution, "resolution", required=status == "resolved")
    with writing():
        before = audit.snapshot(complaint)
        moved = Complaint.update(status=status, handler=handler.id, resolution=resolution,
                                 resolved_at=utcnow() if status == "resolved" else None).where(
            Complaint.id == complaint.id, Complaint.status != "resolved").execute()
        if not moved:
            raise OrderStateError("not_possible", _l("This complaint is already resolved."))
        complaint = Complaint.get_by_id(complaint.id)
        audit.record("handle_complaint", complaint, before, audit.snapshot(complaint),
                     actor=handler)
    return complaint


FOLLOW_UP_STATES = {"returned", "reviewed", "closed", "paid", "policy_issued", "delivered",
                    "settled"}


def follow_up(order, user, satisfaction, note=""):
    """回访 by customer service after completion, with the customer's satisfaction 1–5."""
    if isinstance(satisfaction, bool) or not isinstance(satisfaction, int) or \
            not 1 <= satisfaction <= 5:
        raise OrderInputError("satisfaction", _l("Satisfaction: a whole number from 1 to 5."))
    if order.status not in FOLLOW_UP_STATES:
        raise OrderStateError("not_possible", _l("A follow-up visit comes after the service "
                                                 "is complete."))
    with writing():
        visit = FollowUpVisit.create(order=order.id, by=user.id, city=order.city_id,
                                     satisfaction=satisfaction,
                                     note=plain_text(note, "note", False))
        audit.record("follow_up", order, None, {"satisfaction": satisfaction}, actor=user)
    return visit


# ---- service history ---------------------------------------------------------------------
@dataclass
class ServiceRecord:
    order: Order
    supplier: Supplier | None
    lines: list = field(default_factory=list)  # the final lines, or the estimate's
    progress: list = field(default_factory=list)
    reworks: list = field(default_factory=list)


def vehicle_service_history(vehicle):
    """Every order on this vehicle, newest first, with what was done (final and confirmed
    change lines, else the estimate's), progress reports and reworks — five queries in all."""
    found = list(Order.select().where(Order.vehicle == vehicle.id)
                 .order_by(Order.placed_at.desc(), Order.id.desc()))
    ids = [order.id for order in found]
    suppliers = {s.id: s for s in Supplier.select().where(
        Supplier.id.in_({o.supplier_id for o in found if o.supplier_id}))} if ids else {}
    records = {order.id: ServiceRecord(order, suppliers.get(order.supplier_id))
               for order in found}
    estimates = {}
    for line in OrderLine.select().where(OrderLine.order.in_(ids)).order_by(OrderLine.id):
        target = records[line.order_id].lines if line.source != "estimate" else \
            estimates.setdefault(line.order_id, [])
        target.append(line)
    for report in ProgressReport.select().where(ProgressReport.order.in_(ids)).order_by(
            ProgressReport.at):
        records[report.order_id].progress.append(report)
    for rework in ReworkRequest.select().where(ReworkRequest.order.in_(ids)):
        records[rework.order_id].reworks.append(rework)
    for order_id, record in records.items():
        record.lines = record.lines or estimates.get(order_id, [])
    return [records[order_id] for order_id in ids]
