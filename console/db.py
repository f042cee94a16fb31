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
