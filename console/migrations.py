"""Versioned schema migrations. `init-db` applies every migration above the stored version,
each in its own transaction; running it again changes nothing."""
from playhouse.migrate import PostgresqlMigrator, SqliteMigrator, migrate  # noqa: F401

from console.db import db, is_postgres
from console.models import (
    CATALOGUE_MODELS,
    ORDER_MODELS,
    PEOPLE_MODELS,
    SYSTEM_MODELS,
    SchemaVersion,
)


def migrator():
    return PostgresqlMigrator(db.obj) if is_postgres() else SqliteMigrator(db.obj)


def add_column_if_missing(model, field_name):
    """For later migrations: add a model's column unless an earlier create already made it.

    The column is added NULLable and back-filled. On SQLite a NOT NULL constraint would make
    peewee rebuild the table (drop + recreate), and with foreign keys on, dropping the old table
    cascades into every referencing row — so SQLite keeps the column NULLable; PostgreSQL
    gets the constraint in place."""
    columns = {c.name for c in db.get_columns(model._meta.table_name)}
    field = model._meta.fields[field_name]
    if field.column_name in columns:
        return
    table = model._meta.table_name
    was_null, field.null = field.null, True
    try:
        migrate(migrator().add_column(table, field.column_name, field))
    finally:
        field.null = was_null
    default = field.default() if callable(field.default) else field.default
    if default is not None:
        model.update({field: default}).where(field.is_null()).execute()
    if not was_null and is_postgres():
        migrate(migrator().add_not_null(table, field.column_name))


def _create(models):
    def apply():
        db.create_tables(models, safe=True)
    return apply


def _user_updated_at():
    from console.models import User
    add_column_if_missing(User, "updated_at")
    User._schema.create_indexes(safe=True)


def _create_param_values():
    from console.models import ParamValue
    db.create_tables([ParamValue], safe=True)


# (version, name, function). Append only; never edit an applied migration.
MIGRATIONS = [
    (1, "system: organizations, RBAC, users, menus, audit, messaging", _create(SYSTEM_MODELS)),
    (2, "people: customers, vehicles, butlers, suppliers, car models, reviews",
     _create(PEOPLE_MODELS)),
    (3, "catalogue: service items, pricing rules", _create(CATALOGUE_MODELS)),
    (4, "orders: orders, events, lines, appointments, progress, follow-ups, complaints",
     _create(ORDER_MODELS)),
    (5, "system: users.updated_at, the sync API's cursor", _user_updated_at),
    (6, "system: platform parameters", _create_param_values),
]

LATEST = MIGRATIONS[-1][0]


def current_version():
    if not db.table_exists(SchemaVersion._meta.table_name):
        return 0
    row = SchemaVersion.select().order_by(SchemaVersion.version.desc()).first()
    return row.version if row else 0


def upgrade(echo=print):
    applied = []
    for version, name, apply in MIGRATIONS:
        if version <= current_version():
            continue
        with db.atomic():
            apply()
            SchemaVersion.create(version=version, name=name)
        echo(f"schema: applied {version} — {name}")
        applied.append(version)
    return applied
