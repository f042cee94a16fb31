"""`flask --app run <command>`: init-db, create-user, demo, jobs run, scheduler."""
import click
from flask import current_app

from console import jobs, migrations
from console.catalogue import demo as catalogue_demo
from console.db import db
from console.dispatch import demo as dispatch_demo
from console.errors import InputError
from console.orders import demo as demo_orders
from console.people import demo as people_demo
from console.system import rbac, seed, users


def _ensure_current():
    if migrations.current_version() != migrations.LATEST:
        raise click.ClickException("the schema is outdated: run `flask --app run init-db` first")


def demo_steps():
    """Each area's demo generator, in dependency order: step(orders, seed, scale, echo)."""
    return [people_demo.demo_step, catalogue_demo.demo_step, demo_orders.demo_step,
            dispatch_demo.demo_step]


def init_app(app):
    @app.cli.command("init-db")
    def init_db():
        """Create or upgrade the schema, register resources and load reference data."""
        from console import views
        with db.connection_context():
            migrations.upgrade(echo=click.echo)
            rbac.sync_resources(views.declared_resources(current_app))
            seed.load_reference()
            click.echo(f"schema version {migrations.current_version()}; reference data loaded")

    @app.cli.command("create-user")
    @click.argument("email")
    @click.option("--role", required=True, help="role code, e.g. dispatcher")
    @click.option("--password", required=True)
    @click.option("--org", default="HQ", show_default=True, help="organization code")
    def create_user(email, role, password, org):
        """Create a staff account with one role in one organization."""
        with db.connection_context():
            _ensure_current()
            try:
                user = users.create_user(email, roles=[role], organization=org, password=password)
            except InputError as exc:
                raise click.ClickException(exc.message) from None
            click.echo(f"created {user.email} ({role}) in {org}")

    @app.cli.command("demo")
    @click.option("--orders", default=0, show_default=True, help="number of demo orders")
    @click.option("--seed", "seed_value", default=1, show_default=True)
    @click.option("--scale", default=1.0, show_default=True,
                  help="size of the people/catalogue demo (tests use a small fraction)")
    def demo(orders, seed_value, scale):
        """Reference data and one demo user per role (people and orders in later areas)."""
        with db.connection_context():
            _ensure_current()
            seed.load_reference()
            seed.demo_users()
            for step in demo_steps():
                step(orders=orders, seed=seed_value, scale=scale, echo=click.echo)
        click.echo("demo logins (password for all: %s):" % seed.DEMO_PASSWORD)
        for row in seed.load("demo_users.json"):
            click.echo(f"  {row['role']:<17} {row['email']:<24} {row['username']}")

    @app.cli.group("jobs")
    def jobs_group():
        """Scheduled jobs."""

    @jobs_group.command("run")
    @click.argument("name")
    def jobs_run(name):
        """Run one scheduled job now."""
        try:
            result = jobs.run_job(name)
        except KeyError as exc:
            raise click.ClickException(str(exc.args[0])) from None
        click.echo(f"{name}: {result}")

    @app.cli.command("scheduler")
    def scheduler():
        """Run the job scheduler (start exactly one; a second one waits on the lease)."""
        with db.connection_context():
            _ensure_current()
        click.echo(f"scheduler {jobs.holder_id()} running jobs: {', '.join(jobs.JOBS)}")
        jobs.run_scheduler()
