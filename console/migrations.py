"""Versioned schema migrations. `init-db` applies every migration above the stored version,
each in its own transaction; running it again changes nothing."""
from playhouse.migrate import PostgresqlMigrator, SqliteMigrator, migrate  # noqa: F401

from console.db import db, is_postgres
from console.models_system import SYSTEM_MODELS, SchemaVersion


def migrator():
    return PostgresqlMigrator(db.obj) if is_postgres() else SqliteMigrator(db.obj)


def add_column_if_missing(model, field_name):
    """For later migrations: add a model's column unless an earlier create already made it."""
    columns = {c.name for c in db.get_columns(model._meta.table_name)}
    field = model._meta.fields[field_name]
    if field.column_name not in columns:
        migrate(migrator().add_column(model._meta.table_name, field.column_name, field))


def _create(models):
    def apply():
        db.create_tables(models, safe=True)
    return apply


# (version, name, function). Append only; never edit an applied migration.
MIGRATIONS = [
    (1, "system: organizations, RBAC, users, menus, audit, messaging", _create(SYSTEM_MODELS)),
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
