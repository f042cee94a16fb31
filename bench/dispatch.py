"""Dispatch benchmarks against DESIGN §11, on a scratch SQLite file in WAL mode:

    .venv/bin/python bench/dispatch.py                # all three
    .venv/bin/python bench/dispatch.py sweep batch    # some

- sweep: 100,000 waiting tasks in the task hall, 1,000 of them past their grab deadline (a
  30-second interval's worth on a busy day): the timeout sweep job's time (goal ≤ 1 s), and its
  rate per order moved.
- batch: 200 waiting orders × 300 butlers at random points of a 40 km city: the optimal
  assignment (linear_sum_assignment) and nearest-first greedy; the time of the optimum (goal
  ≤ 200 ms) and the pickup distance saved.
- grab: 2 processes × 8 threads grabbing 2,000 tasks, each thread trying every task in its own
  order: grabs per second and exactly one winner (one grab event, one butler) per task.

The file (bench/data/dispatch.db, gitignored) is rebuilt on each run: init-db and the people
demo, then the orders inserted directly."""
import datetime as dt
import multiprocessing
import os
import random
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DB_FILE = ROOT / "bench" / "data" / "dispatch.db"
URL = f"sqlite:///{DB_FILE}"
WAITING, OVERDUE = 100_000, 1_000
ORDERS, BUTLERS = 200, 300
GRAB_TASKS, PROCESSES, THREADS = 2_000, 2, 8


def build():
    for suffix in ("", "-wal", "-shm"):
        Path(f"{DB_FILE}{suffix}").unlink(missing_ok=True)
    env = {**os.environ, "DATABASE_URL": URL}
    for args in (["init-db"], ["demo"]):
        subprocess.run([sys.executable, "-m", "flask", "--app", "run", *args], cwd=ROOT,
                       env=env, check=True, capture_output=True)


def app():
    from console import create_app
    return create_app({"CONSOLE_DATABASE_URL": URL})


def insert_tasks(count, overdue, order_type="towing", prefix="B"):
    """`count` hall tasks of one Shanghai customer, `overdue` of them past their deadline."""
    from console.db import db, utcnow
    from console.models import Customer, Order, Organization
    city = Organization.get(Organization.code == "SH")
    customer = Customer.select().where(Customer.organization == city.id).first() or \
        Customer.select().first()
    now = utcnow()
    rows = [dict(order_no=f"{prefix}{i:09d}", order_type=order_type, status="requested",
                 customer=customer.id, customer_user=customer.user_id, city=city.id,
                 needs_butler=True, service_code=f"{prefix}{i:09d}", placed_at=now,
                 updated_at=now, pricing_rule_versions={}, details={},
                 grab_deadline=now + (dt.timedelta(minutes=-1) if i < overdue
                                      else dt.timedelta(minutes=10)))
            for i in range(count)]
    with db.atomic():
        for start in range(0, len(rows), 1000):
            Order.insert_many(rows[start:start + 1000]).execute()
    return city


def bench_sweep():
    from console.db import db
    from console.dispatch import sweep
    with app().app_context(), db.connection_context():
        insert_tasks(WAITING, OVERDUE)
        from console.db import utcnow
        started = time.perf_counter()
        found = len(list(sweep.overdue(utcnow(), sweep.BATCH_SIZE)))
        query_ms = (time.perf_counter() - started) * 1000
        started = time.perf_counter()
        result = sweep.sweep_timeouts()
        seconds = time.perf_counter() - started
        again = time.perf_counter()
        repeat = sweep.sweep_timeouts()
        idle_ms = (time.perf_counter() - again) * 1000
    print(f"sweep: {WAITING:,} waiting, {OVERDUE:,} overdue: moved {result['timed_out']:,} in "
          f"{seconds:.2f} s ({result['timed_out'] / seconds:,.0f} orders/s; goal ≤ 1 s); "
          f"finding a batch among them {query_ms:.1f} ms (first batch {found}); "
          f"a sweep with nothing overdue {idle_ms:.1f} ms (moved {repeat['timed_out']})")


def bench_batch():
    import numpy as np

    from console.dispatch import batch
    rng = np.random.default_rng(7)
    orders = rng.uniform(0, 40, size=(ORDERS, 2))
    butlers = rng.uniform(0, 40, size=(BUTLERS, 2))
    cost = np.linalg.norm(orders[:, None, :] - butlers[None, :, :], axis=2)
    cost[rng.random(cost.shape) < 0.05] = batch.INFEASIBLE  # some pairs not allowed
    timings = []
    for _ in range(5):
        started = time.perf_counter()
        best = batch.optimal(cost)
        timings.append((time.perf_counter() - started) * 1000)
    started = time.perf_counter()
    first_come = batch.greedy(cost)
    greedy_ms = (time.perf_counter() - started) * 1000
    total = sum(cost[r, c] for r, c in best)
    greedy_total = sum(cost[r, c] for r, c in first_come)
    end_to_end = _propose_ms(rng)
    print(f"batch: {ORDERS} orders × {BUTLERS} butlers: optimal {total:,.1f} km in "
          f"{sorted(timings)[2]:.1f} ms (median of 5; goal ≤ 200 ms), greedy "
          f"{greedy_total:,.1f} km in {greedy_ms:.1f} ms: saves {greedy_total - total:,.1f} km "
          f"({(greedy_total - total) / greedy_total:.1%}); {len(best)} and {len(first_come)} "
          f"orders assigned; with the km matrix built from positions (haversine) "
          f"{end_to_end:.1f} ms")


def _propose_ms(rng):
    """cost_matrix (great-circle km from positions) + the optimum, as propose() runs them."""
    from types import SimpleNamespace

    from console.dispatch import batch
    base = (31.23, 121.47)
    orders = [SimpleNamespace(city_id=1, supplier_id=None, details={
        "pickup_lat": base[0] + rng.uniform(-0.2, 0.2),
        "pickup_lng": base[1] + rng.uniform(-0.2, 0.2)}) for _ in range(ORDERS)]
    butlers = [SimpleNamespace(id=i, city_id=1, last_lat=base[0] + rng.uniform(-0.2, 0.2),
                               last_lng=base[1] + rng.uniform(-0.2, 0.2))
               for i in range(BUTLERS)]
    room = {b.id: 1 for b in butlers}
    timings = []
    for _ in range(5):
        started = time.perf_counter()
        batch.optimal(batch.cost_matrix(orders, butlers, room))
        timings.append((time.perf_counter() - started) * 1000)
    return sorted(timings)[2]


def _grabber(task_ids, butler_ids, results):
    from console import orders
    from console.db import db
    from console.models import Butler, Order
    from console.orders import OrderError
    wins = attempts = 0
    lock = threading.Lock()

    def run(butler_id):
        nonlocal wins, attempts
        mine = list(task_ids)
        random.Random(butler_id).shuffle(mine)
        won = tried = 0
        with db.connection_context():
            butler = Butler.get_by_id(butler_id)
            for task_id in mine:
                order = Order.get_by_id(task_id)
                if order.butler_id is not None:  # the app's list no longer shows it
                    continue
                tried += 1
                try:
                    orders.grab(order, butler)
                    won += 1
                except OrderError:
                    pass
        with lock:
            wins += won
            attempts += tried
    with app().app_context():
        threads = [threading.Thread(target=run, args=(b,)) for b in butler_ids]
        began = time.time()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    results.put((wins, attempts, began, time.time()))


def bench_grab():
    from console.db import db
    from console.models import Butler, Order, OrderEvent
    with app().app_context(), db.connection_context():
        city = insert_tasks(GRAB_TASKS, 0, prefix="G")
        ids = [o.id for o in Order.select(Order.id).where(Order.order_no.startswith("G"))]
        butlers = [b.id for b in Butler.select().where(
            Butler.city == city.id, Butler.status == "active",
            Butler.licence_points > 0).limit(PROCESSES * THREADS)]
    assert len(butlers) == PROCESSES * THREADS, "not enough Shanghai butlers in the demo"
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    workers = [context.Process(target=_grabber, args=(ids, butlers[p::PROCESSES], results))
               for p in range(PROCESSES)]
    started = time.perf_counter()
    for worker in workers:
        worker.start()
    outcomes = [results.get() for _ in workers]
    seconds = time.perf_counter() - started
    for worker in workers:
        worker.join()
    with app().app_context(), db.connection_context():
        grabs = OrderEvent.select().where(OrderEvent.order.in_(ids), OrderEvent.action == "grab")
        per_order = {}
        for event in grabs:
            per_order[event.order_id] = per_order.get(event.order_id, 0) + 1
        held = Order.select().where(Order.id.in_(ids), Order.butler.is_null(False)).count()
    wins = sum(o[0] for o in outcomes)
    attempts = sum(o[1] for o in outcomes)
    grabbing = max(o[3] for o in outcomes) - min(o[2] for o in outcomes)
    exact = wins == len(ids) == len(per_order) == held and set(per_order.values()) == {1}
    print(f"grab: {PROCESSES} processes × {THREADS} threads, {len(ids):,} tasks: {wins:,} won of "
          f"{attempts:,} tries in {grabbing:.2f} s of grabbing ({seconds:.2f} s with start-up): "
          f"{wins / grabbing:,.0f} grabs/s; exactly one winner per task: {exact}")
    return exact


def main(which):
    print(f"building {DB_FILE} (init-db and the people demo)")
    build()
    if "batch" in which:
        bench_batch()
    if "sweep" in which:
        bench_sweep()
    if "grab" in which and not bench_grab():
        sys.exit(1)


if __name__ == "__main__":
    main(set(sys.argv[1:]) or {"sweep", "batch", "grab"})
