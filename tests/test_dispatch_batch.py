"""Batch assignment: the least total pickup distance (Hungarian method), against nearest-first
greedy, on a case solved by hand; applied pair by pair, each a conditional move a grab may win."""
import numpy as np
import pytest
from order_factories import World, make_butler, reload

from console import dispatch, orders
from console.dispatch import batch
from console.models import Butler, OrderEvent

BASE = (31.2304, 121.4737)
KM_PER_DEGREE = 6371.0 * 3.141592653589793 / 180


def north(km):
    """A point `km` north of BASE on its meridian: distances between such points are exact
    (to the metre or so: PostgreSQL stores a FloatField as a 4-byte real)."""
    return BASE[0] + km / KM_PER_DEGREE, BASE[1]


@pytest.fixture
def w(app):
    Butler.update(status="suspended").execute()  # only the butlers each test places
    return World.build()


def butler_at(km, butler=None):
    lat, lng = north(km)
    butler = butler or make_butler()
    Butler.update(last_lat=lat, last_lng=lng).where(Butler.id == butler.id).execute()
    return Butler.get_by_id(butler.id)


def task_at(w, km):
    lat, lng = north(km)
    return w.order("towing", status="requested", details={"pickup_lat": lat, "pickup_lng": lng})


def test_the_solvers_on_a_matrix_where_greedy_is_not_optimal():
    cost = np.array([[4.0, 5.0], [6.0, 15.0]])  # rows: orders oldest first; columns: butlers
    assert batch.greedy(cost) == [(0, 0), (1, 1)]  # 4 + 15 = 19
    assert batch.optimal(cost) == [(0, 1), (1, 0)]  # 5 + 6 = 11
    masked = np.array([[batch.INFEASIBLE, 3.0], [batch.INFEASIBLE, batch.INFEASIBLE]])
    assert batch.optimal(masked) == [(0, 1)] and batch.greedy(masked) == [(0, 1)]


def test_the_proposal_is_the_optimum_found_by_hand_and_shows_its_saving(w):
    # on one line: order 1 at 0 km, order 2 at 10 km; butler A at 4 km, butler B at −5 km.
    # greedy: order 1 takes A (4 km), order 2 is left B (15 km): 19 km.
    # optimal: order 1 — B (5 km), order 2 — A (6 km): 11 km, 8 km shorter.
    first, second = task_at(w, 0), task_at(w, 10)
    a, b = butler_at(4, w.butler), butler_at(-5, w.other_butler)
    proposal = dispatch.propose([first, second])
    assert [(p.order.id, p.butler.id) for p in proposal.pairs] == [(first.id, b.id),
                                                                   (second.id, a.id)]
    assert [(p.order.id, p.butler.id) for p in proposal.greedy_pairs] == [(first.id, a.id),
                                                                          (second.id, b.id)]
    assert proposal.total_km == pytest.approx(11, abs=0.01)
    assert proposal.greedy_km == pytest.approx(19, abs=0.01)
    assert proposal.saving_km == pytest.approx(8, abs=0.01)


def test_full_other_city_and_unplaced_butlers_are_not_proposed(w):
    order = task_at(w, 0)
    full = butler_at(1, w.butler)
    for _ in range(3):
        w.order("towing", status="assigned", butler=full.id)
    butler_at(0.5, make_butler("BJ-BUTLERS"))
    make_butler()  # no known position
    far = butler_at(30, w.other_butler)
    proposal = dispatch.propose([order])
    assert [(p.order.id, p.butler.id) for p in proposal.pairs] == [(order.id, far.id)]


def test_applying_a_batch_assigns_each_pair_and_a_grab_first_wins_its_order_alone(w):
    first, second = task_at(w, 0), task_at(w, 10)
    a, b = butler_at(4, w.butler), butler_at(-5, w.other_butler)
    proposal = dispatch.propose([first, second])
    grabber = butler_at(0, make_butler())
    orders.grab(reload(first), grabber)  # a moment before the dispatcher clicks
    results = dispatch.apply_batch([(p.order.id, p.butler.id) for p in proposal.pairs],
                                   w.dispatcher)
    (_o1, _b1, lost), (_o2, _b2, done) = results
    assert done is None and reload(second).butler_id == a.id
    assert lost.code == "taken" and grabber.name in lost.message
    assert reload(first).butler_id == grabber.id  # nothing overwritten
    assert OrderEvent.select().where(OrderEvent.order == first.id,
                                     OrderEvent.action == "assign").count() == 0
    assert b.id not in (reload(first).butler_id, reload(second).butler_id)
