"""Scheduled jobs: the outbox delivers after commit with retries, the lease lets one scheduler
run, and `jobs run` runs a job by name."""
import datetime as dt

from console import jobs
from console.db import utcnow
from console.models import JobLease, Outbox, SandboxSms
from console.system import notify


def test_outbox_delivers_an_sms_to_the_sandbox_once(app):
    notify.enqueue("sms", "13900000000", "hello")
    assert notify.deliver_pending() == {"sent": 1, "failed": 0}
    assert notify.deliver_pending() == {"sent": 0, "failed": 0}
    assert [s.body for s in SandboxSms.select()] == ["hello"]
    assert Outbox.get().status == "sent"


def test_a_failing_message_is_retried_later_and_given_up_after_five_attempts(app):
    message = notify.enqueue("sms", "not-a-phone", "x")
    now = utcnow()
    for attempt in range(1, 6):
        notify.deliver_pending(now=now)
        message = Outbox.get_by_id(message.id)
        assert message.attempts == attempt
        assert "not a phone number" in message.last_error
        assert notify.deliver_pending(now=now) == {"sent": 0, "failed": 0}  # backoff holds it
        now = message.next_attempt_at + dt.timedelta(seconds=1)
    assert message.status == "failed"
    assert SandboxSms.select().count() == 0


def test_only_one_scheduler_holds_the_lease_until_it_expires(app):
    now = utcnow()
    assert jobs.acquire_lease(holder="a", now=now)
    assert not jobs.acquire_lease(holder="b", now=now + dt.timedelta(seconds=30))
    assert jobs.acquire_lease(holder="a", now=now + dt.timedelta(seconds=30))  # renewal
    later = now + dt.timedelta(seconds=30 + jobs.LEASE_SECONDS + 1)
    assert jobs.acquire_lease(holder="b", now=later)
    assert JobLease.get_by_id("scheduler").holder == "b"


def test_jobs_run_command_runs_a_job_and_names_unknown_ones(app):
    notify.enqueue("sms", "13900000001", "queued")
    runner = app.test_cli_runner()
    result = runner.invoke(args=["jobs", "run", "outbox"])
    assert result.exit_code == 0, result.output
    assert "'sent': 1" in result.output
    result = runner.invoke(args=["jobs", "run", "nonsense"])
    assert result.exit_code != 0
    assert "unknown job 'nonsense'" in result.output


# ---- every job is registered and scheduled ------------------------------------------------
def job_functions_in_the_code():
    """Every function in console/ whose docstring starts "Job:" (the convention a job
    function follows), as (module, name)."""
    import ast
    from pathlib import Path
    found = set()
    for path in Path(jobs.__file__).parent.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef) and (ast.get_docstring(node) or "").startswith(
                    "Job:"):
                module = ".".join(path.with_suffix("").relative_to(
                    Path(jobs.__file__).parent.parent).parts)
                found.add((module, node.name))
    return found


def test_every_job_function_is_registered_and_every_registered_one_is_a_job_function():
    registered = {(function.__module__, function.__name__)
                  for function, _seconds in jobs.JOBS.values()}
    found = job_functions_in_the_code()
    assert len(found) >= 3  # outbox, certifications, memberships at least
    assert found == registered, f"not registered: {found - registered}; " \
                                f"no 'Job:' docstring: {registered - found}"


def test_each_package_keeps_its_jobs_and_the_scheduler_runs_every_one():
    from console import orders, people, system
    for package in (system, people, orders):
        assert package.JOBS and set(package.JOBS) <= set(jobs.JOBS)
    assert {"outbox", "certifications", "memberships"} <= set(jobs.JOBS)
    scheduler = jobs.build_scheduler()
    assert sorted(job.id for job in scheduler.get_jobs()) == sorted(jobs.JOBS)
    for job in scheduler.get_jobs():
        assert job.trigger.interval.total_seconds() == jobs.JOBS[job.id][1]


def test_the_memberships_job_returns_an_expired_vip_customer_to_regular(app):
    from order_factories import World

    from console import orders
    from console.models import Customer, Order, OrderEvent
    w = World.build()
    order = orders.place_order(w.customer, "vip", details={"months": 1})
    orders.mark_paid(order, "PAY-VIP", order.amount_due_fen,
                     now=utcnow() - dt.timedelta(days=40))  # a month's membership, ended
    assert Customer.get_by_id(w.customer.id).level == "vip"
    result = app.test_cli_runner().invoke(args=["jobs", "run", "memberships"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "memberships: 1"
    assert Order.get_by_id(order.id).status == "expired"
    customer = Customer.get_by_id(w.customer.id)
    assert (customer.level, customer.vip_until) == ("regular", None)
    event = OrderEvent.select().where(OrderEvent.order == order.id).order_by(
        OrderEvent.id.desc()).get()
    assert (event.action, event.from_status, event.to_status, event.actor_id) == (
        "expire", "active", "expired", None)  # the system made the move
    again = app.test_cli_runner().invoke(args=["jobs", "run", "memberships"])
    assert again.output.strip() == "memberships: 0"  # idempotent
