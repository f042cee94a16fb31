"""Ranked candidate butlers for an order (DESIGN §8): the eligible butlers of its city
(`people.eligible_butlers`, THE rule) scored by parts a dispatcher can read — distance to the
pickup, open orders held, stars, refusal rate, licence points, online — each part a share
between 0 and 1 times its weight (参数设置 dispatch.weight_*), the score their sum (out of
100 when the weights add up to 100). A butler holding dispatch.max_load open orders is
listed as full, after everyone else."""
import math
from dataclasses import dataclass

from peewee import fn

from console import people
from console.models import Order, Supplier
from console.system import params

EARTH_RADIUS_KM = 6371.0
DISTANCE_HORIZON_KM = 20.0  # from here on the distance part is worth nothing
FULL_STARS, FULL_LICENCE_POINTS = 5.0, 12
PARTS = ("distance", "load", "stars", "refusals", "licence", "online")


@dataclass(frozen=True)
class Part:
    name: str  # one of PARTS
    value: object  # what the dispatcher reads: km, open orders, stars, rate, points, online
    share: float  # 0..1, how good this value is
    weight: int
    points: float  # share × weight


@dataclass(frozen=True)
class Candidate:
    butler: object
    distance_km: float | None
    load: int
    full: bool
    parts: tuple
    score: float


def distance_km(a, b):
    """Great-circle distance between two (lat, lng) points; None when either is unknown."""
    if a is None or b is None:
        return None
    lat1, lng1, lat2, lng2 = map(math.radians, (*a, *b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + \
        math.cos(lat1) * math.cos(lat2) * math.sin((lng2 - lng1) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(h))


def pickup_point(order, supplier=None):
    """Where the butler goes first: the pickup the customer gave (details pickup_lat/lng),
    else the shop's position; None when neither is known."""
    details = order.details or {}
    if details.get("pickup_lat") is not None and details.get("pickup_lng") is not None:
        return float(details["pickup_lat"]), float(details["pickup_lng"])
    if supplier is None and order.supplier_id:
        supplier = Supplier.get_or_none(Supplier.id == order.supplier_id)
    if supplier is not None and supplier.lat is not None and supplier.lng is not None:
        return supplier.lat, supplier.lng
    return None


def position(butler):
    if butler.last_lat is None or butler.last_lng is None:
        return None
    return butler.last_lat, butler.last_lng


def weights():
    return {part: params.param(f"dispatch.weight_{part}") for part in PARTS}


def loads(butler_ids):
    """{butler id: open orders held} for the given butlers (absent: none)."""
    if not butler_ids:
        return {}
    rows = (Order.select(Order.butler, fn.COUNT(Order.id).alias("held"))
            .where(Order.butler.in_(list(butler_ids)), Order.is_open == True)  # noqa: E712
            .group_by(Order.butler).tuples())
    return dict(rows)


def taken_counts(butler_ids):
    """{butler id: orders ever held} (the orders_served cache may lag behind)."""
    if not butler_ids:
        return {}
    return dict(Order.select(Order.butler, fn.COUNT(Order.id))
                .where(Order.butler.in_(list(butler_ids))).group_by(Order.butler).tuples())


def refusal_rate(butler, taken=0):
    """Refusals over the tasks the butler was given (refused, or served / held)."""
    given = butler.refusal_count + max(butler.orders_served, taken)
    return butler.refusal_count / given if given else 0.0


def score(butler, km, load, weights, max_load, taken=0):
    """The candidate with each part of its score (pure: the ranking tests compute it by hand)."""
    rate = refusal_rate(butler, taken)
    shares = {
        "distance": (None if km is None else round(km, 1),
                     0.0 if km is None else max(0.0, 1 - km / DISTANCE_HORIZON_KM)),
        "load": (load, max(0.0, 1 - load / max_load)),
        "stars": (butler.stars, min(1.0, max(0.0, butler.stars / FULL_STARS))),
        "refusals": (round(rate, 3), 1 - rate),
        "licence": (butler.licence_points,
                    min(1.0, max(0.0, butler.licence_points / FULL_LICENCE_POINTS))),
        "online": (bool(butler.is_online), 1.0 if butler.is_online else 0.0),
    }
    parts = tuple(Part(name, value, share, weights[name], share * weights[name])
                  for name, (value, share) in shares.items())
    return Candidate(butler, km, load, load >= max_load, parts,
                     sum(part.points for part in parts))


def ranked_candidates(order, limit=None):
    """The eligible butlers of the order's city, best first (full ones last)."""
    butlers = list(people.eligible_butlers(order.city_id))
    held, taken = loads([b.id for b in butlers]), taken_counts([b.id for b in butlers])
    pickup = pickup_point(order)
    max_load = params.param("dispatch.max_load", city=order.city_id)
    weighted = weights()
    ranked = sorted((score(b, distance_km(position(b), pickup), held.get(b.id, 0), weighted,
                           max_load, taken.get(b.id, 0)) for b in butlers),
                    key=lambda c: (c.full, -c.score, c.butler.id))
    return ranked[:limit] if limit else ranked
