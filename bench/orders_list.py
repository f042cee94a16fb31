"""Order list timings at a million orders (DESIGN §11: ≤ 15 ms server time for any list page,
with customer/supplier/butler names and a total).

    .venv/bin/python bench/orders_list.py                  # SQLite: bench/data/orders-1m.db
    BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/bench_orders \\
        .venv/bin/python bench/orders_list.py              # ... and PostgreSQL too

The database is built once with `flask --app run init-db` and `demo --orders N` (minutes; the
file is gitignored) and reused afterwards. For each case the script prints the median of
--runs requests through the Flask test client (the whole page rendered, signed in as customer
service) and the median of the same order queries run alone through the driver, and, for
reference, what Flask-Admin's pager would run (COUNT over the filter, then OFFSET)."""
import argparse
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DEFAULT_DB = ROOT / "bench" / "data" / "orders-1m.db"
PASSWORD = "Demo@2026"
SERVICE = "service@demo.local"  # customer service: every city, the page a call starts on
GOAL_MS = 15


def flask(url, *args):
    env = {**os.environ, "DATABASE_URL": url}
    started = time.monotonic()
    subprocess.run([sys.executable, "-m", "flask", "--app", "run", *args], cwd=ROOT, env=env,
                   check=True)
    print(f"  flask {' '.join(args)}: {time.monotonic() - started:.0f} s")


def create_postgres_database(url):
    """CREATE DATABASE for BENCH_DATABASE_URL when it does not exist yet."""
    from urllib.parse import urlparse

    import psycopg2
    parsed = urlparse(url)
    name = parsed.path.lstrip("/")
    conn = psycopg2.connect(host=parsed.hostname, port=parsed.port or 5432,
                            user=parsed.username, password=parsed.password, dbname="postgres")
    conn.autocommit = True
    try:
        cursor = conn.cursor()
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
        if cursor.fetchone() is None:
            cursor.execute(f'CREATE DATABASE "{name}"')
    finally:
        conn.close()


def ensure_database(url, orders):
    """Reuse the database when it holds the orders; otherwise build it with the demo."""
    from console import create_app
    if url.startswith("postgres"):
        create_postgres_database(url)
    from console.db import db
    try:
        app = create_app({"CONSOLE_DATABASE_URL": url})
        with db.connection_context():
            from console.models import Order
            count = Order.select().count() if db.table_exists("orders") else 0
    except Exception:  # a fresh file or database: nothing to reuse yet
        count = 0
    if count >= orders:
        print(f"reusing {url} ({count:,} orders)")
        return
    if count:
        sys.exit(f"{url} holds {count:,} orders, fewer than {orders:,}: remove it to rebuild")
    print(f"building {url} with {orders:,} orders (minutes; progress below)")
    flask(url, "init-db")
    flask(url, "demo", "--orders", str(orders))
    del app


def count_query(query):
    """The page counts through a cursor on PostgreSQL (DECLARE … FOR <select>, then FETCH);
    alone, the same select is simply read to its end."""
    sql, params = query
    if sql.startswith("DECLARE"):
        sql = sql.split(" CURSOR FOR ", 1)[1]
    return sql, params


def median_ms(work, runs):
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        work()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


class Bench:
    def __init__(self, url, runs):
        from console import create_app
        from console.db import db
        self.db = db
        self.app = create_app({"CONSOLE_DATABASE_URL": url, "CONSOLE_LOGIN_CAPTCHA": False,
                               "TESTING": True})
        self.runs = runs
        self.clients = {}
        self.client = self.signed_in(SERVICE)

    def signed_in(self, identity):
        if identity not in self.clients:
            client = self.app.test_client()
            page = client.get("/login").get_data(as_text=True)
            token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
            response = client.post("/login", data={"identity": identity, "password": PASSWORD,
                                                   "csrf_token": token})
            assert response.status_code == 302, f"could not sign in as {identity}"
            self.clients[identity] = client
        return self.clients[identity]

    def cases(self):
        from console.models import Customer, Order, Organization, Vehicle
        from console.orders.lists import cursor_text
        with self.db.connection_context():
            deep = (Order.select(Order.placed_at, Order.id)
                    .order_by(Order.placed_at.desc(), Order.id.desc()).offset(100_000).first())
            middle = Order.get_by_id(Order.select(Order.id).order_by(Order.id.desc()).scalar()
                                     // 2)
            busy_vehicle = Vehicle.get_by_id(Order.select(Order.vehicle).where(
                Order.vehicle.is_null(False)).order_by(Order.id.desc()).scalar())
            customer = Customer.get_by_id(middle.customer_id)
            shanghai = Organization.get(Organization.code == "SH").id
        return [
            ("page 0, newest first", {}),
            ("filtered: closed maintenance in Shanghai",
             {"status": "closed", "order_type": "maintenance", "city": shanghai}),
            ("page 5,001 by keyset (100,000 rows deep)",
             {"after": cursor_text(deep.placed_at, deep.id), "page": 5001}),
            ("search: plate", {"q": busy_vehicle.plate}),
            ("search: mobile", {"q": customer.mobile}),
            ("search: order number", {"q": middle.order_no}),
            ("page 0 as a Shanghai dispatcher (data scope)", {}, "dispatcher@demo.local"),
            ("page 0 as a supplier's admin (data scope)", {}, "supplier@demo.local"),
        ]

    def page_ms(self, client, args):
        """(median ms, the total as the page shows it)."""
        path = "/admin/orders/?" + urlencode(args)
        response = client.get(path)
        text = response.get_data(as_text=True)
        assert response.status_code == 200, text[:500]
        shown = re.search(r'id="order-total">(.*?)</div>', text, re.S).group(1)
        shown = " ".join(re.sub(r"<[^>]+>", " ", shown).split()).split("·")[0].strip()
        return median_ms(lambda: client.get(path), self.runs), shown

    def captured_queries(self, client, args):
        """The order queries the page runs (the list and its total), as (sql, params)."""
        seen, original = [], self.db.obj.execute_sql

        def spy(sql, params=None, *rest, **kwargs):
            if '"orders"' in sql or sql.startswith(("FETCH", "CLOSE")):
                seen.append((sql, params))
            return original(sql, params, *rest, **kwargs)
        self.db.obj.execute_sql = spy
        try:
            client.get("/admin/orders/?" + urlencode(args))
        finally:
            self.db.obj.execute_sql = original
        return seen

    def raw_ms(self, queries):
        with self.db.connection_context():
            connection = self.db.connection()

            def run():
                for sql, params in queries:
                    cursor = connection.cursor()
                    cursor.execute(sql, params or ())
                    cursor.fetchall()
                    cursor.close()
            return median_ms(run, self.runs)

    def flask_admin_ms(self, args):
        """What Flask-Admin's list would run for the same page: a wrapped COUNT of the whole
        filter, then the page by OFFSET (no names joined)."""
        from peewee import fn

        from console.models import Order
        conditions = [getattr(Order, k) == v for k, v in args.items()
                      if k in ("status", "order_type", "city")]
        offset = 100_000 if "after" in args else 0
        query = Order.select()
        if conditions:
            query = query.where(*conditions)
        count = Order.select(fn.COUNT(1)).from_(query.alias("q"))
        page = query.order_by(Order.placed_at.desc()).offset(offset).limit(20)
        return self.raw_ms([count.sql(), page.sql()])

    def run(self, label):
        from console.orders.lists import COUNT_BUDGET_S
        print(f"\n{label}: median of {self.runs} runs, milliseconds")
        print("  page: the whole request (names joined, total, template)\n"
              "  list SQL: the page's row query alone\n"
              "  count SQL: its total read to the end, at most 10,001 rows (the page stops after "
              f"{COUNT_BUDGET_S * 1000:g} ms and shows N+)\n"
              "  Flask-Admin: what its pager runs instead, COUNT of the filter + OFFSET page")
        heading = "case (signed in as customer service unless said)"
        print(f"  {heading:<48}{'page':>7}{'list SQL':>10}{'count SQL':>11}{'Flask-Admin':>13}"
              f"  total shown")
        cases = [(name, args, self.signed_in(who[0] if who else SERVICE))
                 for name, args, *who in self.cases()]
        for _name, args, client in cases * 3:  # warm the caches (RBAC, menus, pages) first
            client.get("/admin/orders/?" + urlencode(args))
        for name, args, client in cases:
            page, shown = self.page_ms(client, args)
            queries = self.captured_queries(client, args)
            rows = [q for q in queries if "customer_name" in q[0]]
            totals = [count_query(q) for q in queries if "customer_name" not in q[0]
                      and not q[0].startswith(("FETCH", "CLOSE"))]
            reference = self.flask_admin_ms(args) if "q" not in args and \
                client is self.client else None
            ref = f"{reference:>13.1f}" if reference is not None else f"{'—':>13}"
            flag = "" if page <= GOAL_MS else "  OVER THE GOAL"
            print(f"  {name:<48}{page:>7.1f}{self.raw_ms(rows):>10.2f}"
                  f"{self.raw_ms(totals):>11.2f}{ref}  {shown}{flag}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=21)
    parser.add_argument("--db", default=str(DEFAULT_DB), help="SQLite file to build or reuse")
    options = parser.parse_args()
    targets = [("SQLite", f"sqlite:///{options.db}")]
    if os.environ.get("BENCH_DATABASE_URL"):
        targets.append(("PostgreSQL", os.environ["BENCH_DATABASE_URL"]))
    Path(options.db).parent.mkdir(parents=True, exist_ok=True)
    for label, url in targets:
        ensure_database(url, options.orders)
        Bench(url, options.runs).run(f"{label}, {options.orders:,} orders")
    print(f"\ngoal: ≤ {GOAL_MS} ms server time per list page (DESIGN §11)")


if __name__ == "__main__":
    main()
