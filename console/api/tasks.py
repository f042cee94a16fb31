"""The butler app: the task hall of my city, grab, refuse, and the moves of a task I serve
(pick up, arrive at the shop, return the car; towing and designated-driving trips)."""

from console import orders
from console.api import errors, iso, route
from console.api import schema as s
from console.api.orders import (
    ORDER_DETAIL,
    SUMMARY_FIELDS,
    get_visible_order,
    order_detail,
    order_summaries,
)
from console.api.schema import N_
from console.orders.states import BUTLER

PAGE_SIZE, MAX_PAGE = 20, 100
BUTLER_ADVANCES = orders.plain_moves(BUTLER)

TASK_FIELDS = dict(SUMMARY_FIELDS, **{
    "grab_deadline": s.timestamp(null=True, description="after this the dispatcher assigns"),
    "bonus_fen": s.money(description="extra pay after refusals or a timeout"),
    "butler_fee_fen": s.money(),
})
TASK = s.component("Task", s.obj(TASK_FIELDS, required=TASK_FIELDS))
TASK_PAGE = s.page_of(TASK, "TaskPage")
TASK_QUERY = s.obj({
    "cursor": s.id_cursor("`next_cursor` of the last page"),
    "limit": s.integer(minimum=1, maximum=MAX_PAGE, description=f"default {PAGE_SIZE}"),
})
ADVANCE = s.obj({
    "action": s.string(enum=BUTLER_ADVANCES),
    "note": s.string(500),
    "final_fen": s.price("finish_tow: the towing price"),
    "distance_m": s.integer(minimum=0, maximum=2_000_000,
                            description="end_trip: metres driven (the fare follows)"),
}, required=("action",))


def butler_of(user):
    butler = orders.butler_of(user)
    if butler is None:
        raise errors.forbidden()
    return butler


@route("/tasks", "GET", resource="api.tasks.list", tag="butler", query=TASK_QUERY,
       responses={200: TASK_PAGE}, summary=N_("Open tasks in my city, oldest first"))
def list_tasks(user, query):
    butler = butler_of(user)
    limit = query.get("limit", PAGE_SIZE)
    after = int(query["cursor"]) if query.get("cursor") else None
    rows = orders.hall_tasks(butler.city_id, after, limit + 1)
    page = rows[:limit]
    items = [dict(summary, grab_deadline=iso(o.grab_deadline), bonus_fen=o.bonus_fen,
                  butler_fee_fen=o.butler_fee_fen)
             for summary, o in zip(order_summaries(page), page, strict=True)]
    return {"items": items,
            "next_cursor": str(page[-1].id) if len(rows) > limit else None}


@route("/tasks/<int:order_id>/grab", "POST", resource="api.tasks.grab", tag="butler",
       responses={200: ORDER_DETAIL}, errors=(409,), summary=N_("Grab a task (first wins)"))
def grab_task(user, order_id):
    butler = butler_of(user)
    order = orders.hall_task(butler, order_id)
    orders.grab(order, butler)
    return order_detail(order, user)


@route("/tasks/<int:order_id>/refuse", "POST", resource="api.tasks.refuse", tag="butler",
       body=s.obj({"reason": s.string(500, min_length=1)}, required=("reason",)),
       responses={200: ORDER_DETAIL}, errors=(409,),
       summary=N_("Refuse a task given to me (it goes back to the hall)"))
def refuse_task(user, order_id, body):
    order = get_visible_order(user, order_id)
    orders.refuse(order, user, body["reason"])
    return order_detail(order, user)


@route("/tasks/<int:order_id>/advance", "POST", resource="api.tasks.advance", tag="butler",
       body=ADVANCE, responses={200: ORDER_DETAIL}, errors=(409,),
       summary=N_("Move my task on: picked up, at the shop, returned, trip steps"))
def advance_task(user, order_id, body):
    order = get_visible_order(user, order_id)
    inputs = {k: v for k, v in body.items() if k not in ("action", "note")}
    orders.advance(order, body["action"], user, body.get("note", ""), **inputs)
    return order_detail(order, user)
