"""The whole transition table, both ways: every allowed (state, action, actor) succeeds and
writes its order event and audit row; every other (state, action, actor) — including the right
kind of user who has no part in the order — is refused with OrderStateError and changes
nothing (status, events, amounts, audit).

The ~110 cases share one database per backend; each runs inside a transaction rolled back at
its end, so the table test costs seconds, not a database copy per case."""
import pytest
from order_factories import World, reload

from console import orders
from console.models import AuditLog, OrderEvent, ProgressReport, ReworkRequest
from console.orders.engine import MONEY_FIELDS, OrderStateError
from console.orders.states import ACTIONS, FAMILY_OF, HALL_STATES, STATES, TRANSITIONS

ROLES = ("customer", "butler", "supplier", "dispatcher", "customer_service", "system")
TYPE_OF = {"repair": "maintenance", **{f: f for f in FAMILY_OF.values() if f != "repair"}}


pytestmark = pytest.mark.rolled_back  # one database, each case rolled back


def _prepare(w, family, state, action):
    """An order in `state` that meets the move's guard (what a real order would have then)."""
    fields = {}
    if action == "settle_rework":
        fields.update(final_fen=50000, paid_fen=50000)
    if state in ("quoted", "in_repair", "repaired", "ended", "towed", "returned"):
        fields.setdefault("final_fen", 50000)
    order = w.order(TYPE_OF[family], status=state,
                    needs_butler=False if (state, action) == ("placed", "arrive") else None,
                    **fields)
    if action in ("confirm_cost_change", "reject_cost_change"):
        ProgressReport.create(order=order, text="换刹车片", cost_change_fen=3000,
                              cost_change_status="pending")
    if action == "settle_rework":
        ReworkRequest.create(order=order, reason="异响")
    return order


def _footprint(order):
    fresh = reload(order)
    return (fresh.status, tuple(getattr(fresh, f) for f in MONEY_FIELDS), fresh.butler_id,
            OrderEvent.select().where(OrderEvent.order == order.id).count(),
            AuditLog.select().where(AuditLog.object_type == "Order",
                                    AuditLog.object_id == str(order.id)).count())


ALLOWED = sorted(TRANSITIONS)
HALL_GRABS = {("butler", state) for state in HALL_STATES}


@pytest.mark.parametrize("family, state, action", ALLOWED,
                         ids=[f"{f}:{s}:{a}" for f, s, a in ALLOWED])
def test_every_allowed_move_succeeds_for_each_allowed_actor_and_is_recorded(app, family, state,
                                                                            action):
    to_state, roles = TRANSITIONS[(family, state, action)]
    w = World.build()
    for role in sorted(roles):
        order = _prepare(w, family, state, action)
        # any butler may grab from the task hall: there is no outsider butler there
        outsiders = [] if (role, state) in HALL_GRABS else w.outsiders(role)
        for outsider in outsiders:
            before = _footprint(order)
            with pytest.raises(OrderStateError):
                orders.transition(order, action, outsider)
            assert _footprint(order) == before, (role, "outsider changed the order")
        audits = AuditLog.select().count()
        given = {"butler": w.other_butler.id} if action == "assign" else None
        event = orders.transition(order, action, w.actor(role), changes=given)
        assert reload(order).status == to_state == order.status, role
        assert (event.action, event.from_status, event.to_status, event.actor_role) == \
            (action, state, to_state, role)
        actor = w.actor(role)
        assert event.actor_id == (actor.id if actor else None)
        assert AuditLog.select().count() == audits + 1
        assert AuditLog.select().order_by(AuditLog.id.desc()).first().action == action
        if action in ("grab", "assign"):
            assert reload(order).butler_id == (w.butler.id if action == "grab"
                                               else w.other_butler.id)


@pytest.mark.parametrize("family", sorted(STATES))
def test_every_other_state_action_actor_is_refused_and_changes_nothing(app, family):
    w = World.build()
    refused = 0
    for state in STATES[family]:
        order = w.order(TYPE_OF[family], status=str(state))
        before = _footprint(order)
        for action in ACTIONS:
            move = TRANSITIONS.get((family, str(state), action))
            for role in ROLES:
                if move is not None and role in move[1]:
                    continue
                with pytest.raises(OrderStateError) as error:
                    orders.transition(order, action, w.actor(role))
                assert error.value.code in ("illegal_move", "not_allowed")
                assert error.value.code == ("not_allowed" if move else "illegal_move")
                refused += 1
            assert order.status == str(state)
        assert _footprint(order) == before, (state, "a refused move changed the order")
    assert refused > len(STATES[family]) * len(ACTIONS) * len(ROLES) * 0.8


def test_the_table_covers_every_state_and_every_state_is_reachable():
    for family, states in STATES.items():
        reached = {str(next(iter(states)))}
        frontier = list(reached)
        while frontier:
            state = frontier.pop()
            for (fam, src, _action), (dst, _roles) in TRANSITIONS.items():
                if fam == family and src == state and dst not in reached:
                    reached.add(dst)
                    frontier.append(dst)
        assert reached == {str(s) for s in states}, family
