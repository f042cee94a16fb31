"""The database handle, the base model, and the field types every area shares."""
import datetime as dt
import json

from peewee import DatabaseProxy, IntegerField, Model, TextField
from playhouse.db_url import connect as connect_url

db = DatabaseProxy()


def utcnow():
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


def open_database(url: str):
    """Connect a peewee database for `url`; SQLite gets WAL and a generous busy timeout."""
    if url.startswith("sqlite"):
        database = connect_url(url, pragmas={
            "journal_mode": "wal", "busy_timeout": 5000, "foreign_keys": 1,
            "synchronous": "normal", "cache_size": -64000,
        }, check_same_thread=False)
    else:
        database = connect_url(url)
    db.initialize(database)
    return database


def is_postgres():
    from peewee import PostgresqlDatabase
    return isinstance(db.obj, PostgresqlDatabase)


class BaseModel(Model):
    class Meta:
        database = db
        legacy_table_names = False


class MoneyField(IntegerField):
    """Money in integer fen (分). Never float."""

    def db_value(self, value):
        if isinstance(value, float):
            raise TypeError("money must be int fen, not float")
        return super().db_value(value)


class JSONField(TextField):
    def db_value(self, value):
        return None if value is None else json.dumps(value, ensure_ascii=False, default=str,
                                                     sort_keys=True)

    def python_value(self, value):
        return None if value is None else json.loads(value)


def bulk_insert(model, rows):
    """INSERT many rows with one prepared statement (executemany): peewee's insert_many spends
    most of its time building SQL text for every row. Every row has the same keys."""
    if not rows:
        return
    names = list(rows[0])
    defaults = {f.name: f.default for f in model._meta.sorted_fields
                if f.name not in names and f.default is not None and not f.primary_key}
    rows = [{**{k: v() if callable(v) else v for k, v in defaults.items()}, **row}
            for row in rows]
    names += list(defaults)
    fields = [model._meta.fields[name] for name in names]
    database = db.obj
    columns = ", ".join(f'"{field.column_name}"' for field in fields)
    marks = ", ".join([database.param] * len(fields))
    sql = f'INSERT INTO "{model._meta.table_name}" ({columns}) VALUES ({marks})'
    values = [tuple(field.db_value(row[name]) for field, name in zip(fields, names, strict=True))
              for row in rows]
    with db.atomic():
        database.cursor().executemany(sql, values)
