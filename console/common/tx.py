"""The one write-transaction helper (the unit of work of STYLE.md)."""
from console.db import db, is_postgres


def writing():
    """A write transaction. SQLite takes the write lock up front, so a concurrent writer waits
    instead of failing on a stale snapshot; PostgreSQL locks the rows it touches. Nested, it
    is a savepoint of the outer transaction."""
    if not is_postgres() and not db.in_transaction():
        return db.atomic(lock_type="IMMEDIATE")
    return db.atomic()
