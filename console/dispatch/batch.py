"""Batch assignment (DESIGN §8): several orders wait at once — give each a different free
butler so that the total pickup distance over all of them is the least possible (the assignment
problem, solved by `scipy.optimize.linear_sum_assignment`, as ride-hailing platforms do), and
show how much shorter that is than serving the orders one by one, oldest first, each with the
nearest butler still free (greedy). Applying it is one `assign_from_board` per pair: each still
a conditional move a grab may win first."""
from dataclasses import dataclass

import numpy as np
from scipy.optimize import linear_sum_assignment

from console import people
from console.dispatch.candidates import distance_km, loads, pickup_point, position
from console.system import params

INFEASIBLE = 1e9  # a finite mask: an all-inf row makes the solver raise


@dataclass(frozen=True)
class Pair:
    order: object
    butler: object
    distance_km: float


@dataclass(frozen=True)
class Proposal:
    pairs: tuple  # the optimal assignment, oldest order first
    total_km: float
    greedy_pairs: tuple
    greedy_km: float

    @property
    def saving_km(self):
        return self.greedy_km - self.total_km

    @property
    def saving_share(self):
        return self.saving_km / self.greedy_km if self.greedy_km else 0.0


def optimal(cost):
    """[(row, column)] minimising the total cost, each row and column used at most once;
    masked pairs are left out."""
    rows, columns = linear_sum_assignment(cost)
    return [(r, c) for r, c in zip(rows.tolist(), columns.tolist(), strict=True)
            if cost[r, c] < INFEASIBLE]


def greedy(cost):
    """Rows in order, each given its cheapest column still free (nearest-first)."""
    free = np.ones(cost.shape[1], dtype=bool)
    chosen = []
    for r in range(cost.shape[0]):
        row = np.where(free, cost[r], np.inf)
        c = int(np.argmin(row)) if row.size else 0
        if row.size and row[c] < INFEASIBLE:
            chosen.append((r, c))
            free[c] = False
    return chosen


def cost_matrix(orders, butlers, room):
    """km from each butler to each order's pickup; masked where the butler is of another
    city, full, or either position is unknown."""
    cost = np.full((len(orders), len(butlers)), INFEASIBLE)
    spots = [position(b) for b in butlers]
    for r, order in enumerate(orders):
        pickup = pickup_point(order)
        if pickup is None:
            continue
        for c, butler in enumerate(butlers):
            if butler.city_id == order.city_id and room[butler.id] > 0 and spots[c]:
                cost[r, c] = distance_km(spots[c], pickup)
    return cost


def propose(orders):
    """The proposal for `orders` (oldest first) among the eligible butlers of their cities
    with room for one more order."""
    orders = list(orders)
    cities = sorted({o.city_id for o in orders})
    butlers = [b for city in cities for b in people.eligible_butlers(city)]
    held = loads([b.id for b in butlers])
    room = {b.id: params.param("dispatch.max_load", city=b.city_id) - held.get(b.id, 0)
            for b in butlers}
    cost = cost_matrix(orders, butlers, room)

    def pairs(chosen):
        return tuple(sorted((Pair(orders[r], butlers[c], float(cost[r, c])) for r, c in chosen),
                            key=lambda p: orders.index(p.order)))
    best, first_come = pairs(optimal(cost)), pairs(greedy(cost))
    return Proposal(best, sum(p.distance_km for p in best), first_come,
                    sum(p.distance_km for p in first_come))
