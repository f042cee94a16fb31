"""Upgrading an existing database keeps its rows: a later column migration must not rebuild
(and so cascade-delete through) a table that others reference."""
from console import migrations
from console.db import db
from console.models import SchemaVersion, User, UserRoles


def test_upgrading_to_the_user_updated_at_column_keeps_every_role_link(app):
    links = UserRoles.select().count()
    assert links > 0
    db.execute_sql('DROP INDEX IF EXISTS "user_updated_at"')
    db.execute_sql('ALTER TABLE "user" DROP COLUMN "updated_at"')
    SchemaVersion.delete().where(SchemaVersion.version >= 5).execute()  # stopped at 4

    result = app.test_cli_runner().invoke(args=["init-db"])

    assert result.exit_code == 0, result.output
    assert migrations.current_version() == migrations.LATEST
    assert UserRoles.select().count() == links
    assert User.select().where(User.updated_at.is_null()).count() == 0
