"""Scheduled jobs. Each package declares its own (`<package>.JOBS`: name -> (function, every N
seconds)); this module only collects and schedules them. Each job is idempotent and keeps its
state in our tables; a database lease makes sure only one process runs the schedule even when
several workers start it."""
import datetime as dt
import os
import socket
import time

from console import dispatch, orders, people, system
from console.db import db, utcnow
from console.models import JobLease

PACKAGES = (system, people, orders, dispatch)  # each with JOBS = {name: (function, seconds)}
JOBS = {name: job for package in PACKAGES for name, job in package.JOBS.items()}
LEASE_SECONDS = 60


def run_job(name):
    if name not in JOBS:
        raise KeyError(f"unknown job {name!r}; known jobs: {', '.join(sorted(JOBS))}")
    with db.connection_context():
        result = JOBS[name][0]()
        JobLease.insert(name=f"job:{name}", last_run_at=utcnow()).on_conflict(
            conflict_target=[JobLease.name], update={JobLease.last_run_at: utcnow()}).execute()
    return result


def holder_id():
    return f"{socket.gethostname()}:{os.getpid()}"


def acquire_lease(name="scheduler", holder=None, seconds=LEASE_SECONDS, now=None):
    """Take or renew the lease; True when this holder owns it afterwards."""
    holder = holder or holder_id()
    now = now or utcnow()
    expires = now + dt.timedelta(seconds=seconds)
    with db.atomic():
        JobLease.insert(name=name, holder="", expires_at=now).on_conflict_ignore().execute()
        taken = JobLease.update(holder=holder, expires_at=expires).where(
            (JobLease.name == name)
            & ((JobLease.holder == holder) | (JobLease.expires_at <= now))).execute()
    return bool(taken)


def run_scheduler(stop_after=None):
    """Blocking scheduler for `flask --app run scheduler`: APScheduler runs the jobs while this
    process holds the lease; a second scheduler process waits as a hot standby."""
    scheduler = build_scheduler()
    scheduler.start()
    started = time.monotonic()
    try:
        while stop_after is None or time.monotonic() - started < stop_after:
            time.sleep(1)
    finally:
        scheduler.shutdown(wait=True)


def build_scheduler():
    """An APScheduler with one interval job per entry of JOBS (not started)."""
    from apscheduler.schedulers.background import BackgroundScheduler

    scheduler = BackgroundScheduler(timezone="UTC")
    for name, (_, seconds) in JOBS.items():
        scheduler.add_job(_guarded, "interval", seconds=seconds, args=[name], id=name,
                          max_instances=1, coalesce=True)
    return scheduler


def _guarded(name):
    with db.connection_context():
        if not acquire_lease():
            return None
    return run_job(name)
