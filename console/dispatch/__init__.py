"""Dispatch centre (plan 3.11 资源分配中心, 3.12 任务大厅): the timeout sweep that puts tasks
nobody grabbed in time on the dispatch board, the board's queries, ranked candidate butlers and
the optimal batch assignment. Assigning itself is `console.orders.assign` (a conditional move a
grab may win first)."""
from console.common.exports import lazy_exports

__all__, __getattr__ = lazy_exports(__name__, {
    "sweep": ["JOBS", "on_board", "sweep_timeouts"],
    "candidates": ["PARTS", "ranked_candidates", "distance_km", "pickup_point", "score"],
    "batch": ["Proposal", "greedy", "optimal", "propose"],
    "board": ["URGENCIES", "apply_batch", "assign_from_board", "board_count", "clock",
              "find_order", "taken", "waiting_orders"],
})
