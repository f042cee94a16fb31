"""Ranked candidates, with expectations computed by hand from the default weights
(distance 40, load 20, stars 15, refusals 10, licence points 5, online 10; 3 open orders fill
a butler; the distance part falls from full at 0 km to nothing at 20 km)."""
import pytest
from order_factories import World, make_butler

from console import dispatch
from console.models import Butler, Order
from console.system import params

PICKUP = (31.2304, 121.4737)
KM_PER_DEGREE = 6371.0 * 3.141592653589793 / 180  # 111.195 km per degree of latitude


@pytest.fixture
def w(app):
    return World.build()


def place(butler, km_north=None, **fields):
    if km_north is not None:
        fields.update(last_lat=PICKUP[0] + km_north / KM_PER_DEGREE, last_lng=PICKUP[1])
    Butler.update(**fields).where(Butler.id == butler.id).execute()
    return Butler.get_by_id(butler.id)


def hold(w, butler, count):
    for _ in range(count):
        w.order("towing", status="assigned", butler=butler.id)


def parts(candidate):
    return {p.name: round(p.points, 3) for p in candidate.parts}


def test_candidates_are_scored_part_by_part_as_computed_by_hand(w):
    near = place(w.butler, 0, stars=4.0, refusal_count=1, orders_served=9, licence_points=12,
                 is_online=True)
    hold(w, near, 1)
    far = place(w.other_butler, 10, stars=5.0, refusal_count=0, orders_served=0,
                licence_points=6, is_online=False)
    order = w.order("towing", status="requested",
                    details={"pickup_lat": PICKUP[0], "pickup_lng": PICKUP[1]})
    ranked = [c for c in dispatch.ranked_candidates(order) if c.butler.id in (near.id, far.id)]
    assert [c.butler.id for c in ranked] == [near.id, far.id]
    first, second = ranked
    # near: 40×1 + 20×(1−1/3) + 15×4/5 + 10×(1−1/10) + 5×12/12 + 10×1
    assert parts(first) == {"distance": 40, "load": 13.333, "stars": 12, "refusals": 9,
                            "licence": 5, "online": 10}
    assert first.score == pytest.approx(89.333, abs=0.001)
    assert (first.distance_km, first.load, first.full) == (0, 1, False)
    # far: 40×(1−10/20) + 20×1 + 15×1 + 10×1 + 5×6/12 + 0
    assert parts(second) == {"distance": 20, "load": 20, "stars": 15, "refusals": 10,
                             "licence": 2.5, "online": 0}
    assert second.score == pytest.approx(67.5, abs=0.001)
    assert second.distance_km == pytest.approx(10, abs=0.001)
    shown = {p.name: p.value for p in second.parts}
    assert shown == {"distance": 10.0, "load": 0, "stars": 5.0, "refusals": 0.0,
                     "licence": 6, "online": False}


def test_the_weights_come_from_the_parameters(w):
    near = place(w.butler, 0, is_online=False, stars=5.0, licence_points=12)
    online = place(w.other_butler, 2, is_online=True, stars=5.0, licence_points=12)
    order = w.order("towing", status="requested",
                    details={"pickup_lat": PICKUP[0], "pickup_lng": PICKUP[1]})

    def top():
        return [c.butler.id for c in dispatch.ranked_candidates(order)
                if c.butler.id in (near.id, online.id)][0]
    assert top() == online.id  # 2 km cost 4 points, being online gains 10
    params.set_value("dispatch.weight_online", 0, None)
    assert top() == near.id


def test_a_full_butler_is_listed_last_and_an_ineligible_one_not_at_all(w):
    full = place(w.butler, 0, stars=5.0)
    hold(w, full, 3)
    other = place(w.other_butler, 15, stars=1.0)
    suspended = make_butler(status="suspended", last_lat=PICKUP[0], last_lng=PICKUP[1])
    no_points = make_butler(licence_points=0, last_lat=PICKUP[0], last_lng=PICKUP[1])
    beijing = make_butler("BJ-BUTLERS", last_lat=PICKUP[0], last_lng=PICKUP[1])
    order = w.order("towing", status="requested",
                    details={"pickup_lat": PICKUP[0], "pickup_lng": PICKUP[1]})
    ranked = dispatch.ranked_candidates(order)
    ids = [c.butler.id for c in ranked]
    assert not {suspended.id, no_points.id, beijing.id} & set(ids)
    assert ids[-1] == full.id and ranked[-1].full and ranked[-1].load == 3
    assert ids.index(other.id) < ids.index(full.id)
    assert Order.select().where(Order.butler == full.id).count() == 3


def test_without_a_pickup_the_shop_is_the_point_and_without_either_distance_is_unknown(w):
    w.supplier.lat, w.supplier.lng = PICKUP
    w.supplier.save()
    at_shop = place(w.butler, 5)
    repair = w.order("maintenance", status="awaiting_grab")
    [c] = [c for c in dispatch.ranked_candidates(repair) if c.butler.id == at_shop.id]
    assert c.distance_km == pytest.approx(5, abs=0.001) and parts(c)["distance"] == 30
    towing = w.order("towing", status="requested")  # no pickup given, no shop
    [c] = [c for c in dispatch.ranked_candidates(towing) if c.butler.id == at_shop.id]
    assert c.distance_km is None and parts(c)["distance"] == 0
