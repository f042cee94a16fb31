"""Races on the dispatch board, with real threads on a real database file (and PostgreSQL when
TEST_DATABASE_URL is set): a grab and a dispatcher's assignment at the same instant, two
dispatchers assigning one order, a batch racing grabs — each order ends with exactly one butler,
one event, and the loser is told who won."""
import pytest
from order_factories import World, make_butler, make_user, org, reload
from test_orders_concurrency import race

from console import dispatch, orders
from console.errors import ConflictError
from console.models import Butler, OrderEvent


@pytest.fixture
def w(app):
    return World.build()


def givings(order):
    return list(OrderEvent.select().where(OrderEvent.order == order.id,
                                          OrderEvent.action.in_(["grab", "assign"])))


def outcome(work):
    """work() or the ConflictError it raised (what the dispatcher or the app is shown)."""
    try:
        return work()
    except ConflictError as refused:
        return refused


def test_a_grab_and_an_assignment_at_the_same_instant_have_exactly_one_winner(w):
    for _ in range(5):
        order = w.order("towing", status="requested")
        seen = [reload(order), reload(order)]
        moves = [lambda seen=seen: orders.grab(seen[0], w.butler),
                 lambda order=order: dispatch.assign_from_board(order.id, w.other_butler.id,
                                                                w.dispatcher)]
        outcomes = race(2, lambda i, moves=moves: outcome(moves[i]))
        lost = [o for o in outcomes if isinstance(o, ConflictError)]
        assert len(lost) == 1 and len(givings(order)) == 1
        holder = reload(order).butler_id
        assert holder in (w.butler.id, w.other_butler.id)
        if isinstance(outcomes[1], ConflictError):  # the dispatcher lost: told who grabbed it
            assert outcomes[1].code == "taken" and w.butler.name in outcomes[1].message


def test_two_dispatchers_assigning_one_order_have_exactly_one_winner(w):
    second = make_user("dispatcher", org("SH"))
    for _ in range(5):
        order = w.order("towing", status="requested")
        def assign(i, order=order):
            return outcome(lambda: dispatch.assign_from_board(
                order.id, (w.butler, w.other_butler)[i].id, (w.dispatcher, second)[i]))
        outcomes = race(2, assign)
        lost = [o for o in outcomes if isinstance(o, ConflictError)]
        assert len(lost) == 1 and lost[0].code == "taken"
        assert len(givings(order)) == 1


def test_a_batch_racing_grabs_gives_each_order_exactly_one_butler(w):
    Butler.update(status="suspended").where(
        Butler.id.not_in([w.butler.id, w.other_butler.id])).execute()
    for butler, lat in ((w.butler, 31.20), (w.other_butler, 31.25)):
        Butler.update(last_lat=lat, last_lng=121.47).where(Butler.id == butler.id).execute()
    tasks = [w.order("towing", status="requested",
                     details={"pickup_lat": 31.2 + i / 100, "pickup_lng": 121.47})
             for i in range(2)]
    proposal = dispatch.propose(tasks)
    pairs = [(p.order.id, p.butler.id) for p in proposal.pairs]
    grabbers = [make_butler() for _ in tasks]
    outcomes = race(3, lambda i: dispatch.apply_batch(pairs, w.dispatcher) if i == 2 else
                    outcome(lambda: orders.grab(reload(tasks[i]), grabbers[i])))
    for task in tasks:
        assert len(givings(task)) == 1 and reload(task).butler_id is not None
    batch_won = sum(1 for _o, _b, error in outcomes[2] if error is None)
    grabs_won = sum(1 for o in outcomes[:2] if not isinstance(o, ConflictError))
    assert batch_won + grabs_won == len(tasks)
