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
