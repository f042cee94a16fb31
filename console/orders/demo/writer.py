"""Bulk loading for the order demo: raw `executemany` (SQLite) or `execute_values`
(PostgreSQL) batches in transactions, bypassing per-row ORM work, and secondary indexes rebuilt
once after a large load instead of being maintained row by row."""
from contextlib import contextmanager

from console.db import db, is_postgres

FLUSH_ORDERS = 5000  # orders per transaction (their events, lines and rows go with them)


def _quoted(name):
    return f'"{name}"'  # standard SQL identifier quoting: SQLite and PostgreSQL alike


def _defaults(model, given):
    """[(field name, stored default)] for the model's columns the builder does not fill (a
    column added later gets its default instead of breaking the load)."""
    pending = []
    for f in model._meta.sorted_fields:
        if f.name in given or f is model._meta.primary_key:
            continue
        value = f.default() if callable(f.default) else f.default
        pending.append((f.name, f.db_value(value)))
    return pending


class BulkWriter:
    """Buffers rows per table and writes them parents first, one transaction per flush.

    `tables` maps a name to (model, [field names]); rows are tuples in that field order.
    executemany binds one row per step, so SQLite's bound-variable limit (STACK-NOTES 19)
    never applies however large the batch."""

    def __init__(self, tables, big=False):
        self.tables = tables
        self.buffers = {name: [] for name in tables}
        self.defaults = {name: _defaults(model, fields) for name, (model, fields)
                         in tables.items()}
        self.sql = {name: self._statement(model, fields + [f for f, _v in self.defaults[name]])
                    for name, (model, fields) in tables.items()}
        self.big = big
        self.foreign_keys_were_on = False

    @staticmethod
    def _statement(model, fields):
        columns = ", ".join(_quoted(model._meta.fields[f].column_name) for f in fields)
        target = f"INSERT INTO {_quoted(model._meta.table_name)} ({columns}) VALUES "
        if is_postgres():
            return target + "%s"
        return target + "(" + ", ".join("?" for _ in fields) + ")"

    def columns(self, name):
        return self.tables[name][1]

    def add(self, name, row):
        self.buffers[name].append(row)
        if name == "order" and len(self.buffers[name]) >= FLUSH_ORDERS:
            self.flush()

    def add_many(self, name, rows):
        self.buffers[name].extend(rows)

    def flush(self):
        if not any(self.buffers.values()):
            return
        with db.atomic():
            cursor = db.cursor()
            for name in self.tables:  # dict order: parents (orders) before their children
                rows = self.buffers[name]
                if rows:
                    self._write(cursor, name, rows)
                    self.buffers[name] = []

    def _write(self, cursor, name, rows):
        tail = tuple(value for _f, value in self.defaults[name])
        if tail:
            rows = [row + tail for row in rows]
        if is_postgres():
            from psycopg2.extras import execute_values
            execute_values(cursor, self.sql[name], rows, page_size=2000)
        else:
            cursor.executemany(self.sql[name], rows)

    def __enter__(self):
        if self.big and not is_postgres():
            # rows reference only ids the generator just made or read; checking each one
            # against its parent would double the load time
            self.foreign_keys_were_on = bool(db.execute_sql("PRAGMA foreign_keys").fetchone()[0])
            db.execute_sql("PRAGMA foreign_keys = OFF")
        return self

    def __exit__(self, *exc):
        try:
            if exc[0] is None:
                self.flush()
        finally:
            if self.foreign_keys_were_on:
                db.execute_sql("PRAGMA foreign_keys = ON")
        return False


def _secondary_indexes(table):
    if is_postgres():
        cursor = db.execute_sql(
            "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() "
            "AND tablename = %s AND indexname NOT IN (SELECT conname FROM pg_constraint)",
            (table,))
    else:
        cursor = db.execute_sql("SELECT name, sql FROM sqlite_master WHERE type = 'index' "
                                "AND tbl_name = ? AND sql IS NOT NULL", (table,))
    return list(cursor.fetchall())


@contextmanager
def rebuilt_indexes(models, enabled=True, echo=print):
    """Drop the tables' secondary indexes for the load and recreate them from their own
    definitions afterwards (also when the load fails, so the schema is never left short)."""
    if not enabled:
        yield
        return
    saved = [index for model in models for index in _secondary_indexes(model._meta.table_name)]
    with db.atomic():
        for name, _sql in saved:
            db.execute_sql(f"DROP INDEX {_quoted(name)}")
    try:
        yield
    finally:
        echo(f"orders: rebuilding {len(saved)} indexes")
        with db.atomic():
            for _name, sql in saved:
                db.execute_sql(sql)
