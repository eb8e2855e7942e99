"""The in-server scheduler: runs its jobs on their intervals, one process at a time."""

from __future__ import annotations

import time

from paperboy.jobs.scheduler import JOBS, Job, Scheduler


def test_jobs_run_and_failures_are_contained(web_settings, web_store):
    calls = []

    def ok(settings, store, searcher):
        calls.append(store.papers.count())

    def boom(settings, store, searcher):
        raise RuntimeError("source down")

    jobs = [Job("ok", every=lambda s: 0.05, run=ok, run_at_start=True),
            Job("boom", every=lambda s: 0.05, run=boom, run_at_start=True),
            Job("off", every=lambda s: 0, run=boom)]
    sched = Scheduler(web_settings, web_store, jobs=jobs, tick=0.01)
    assert sched.start()
    try:
        deadline = time.monotonic() + 5
        while len(calls) < 3 and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        sched.stop()
    assert len(calls) >= 3 and calls[0] == 38
    assert sched.errors == {"boom": "source down"} and sched.runs["boom"] >= 1
    assert "off" not in sched.runs


def test_only_one_scheduler_per_data_directory(web_settings, web_store):
    job = [Job("noop", every=lambda s: 60, run=lambda *a: None)]
    first = Scheduler(web_settings, web_store, jobs=job)
    second = Scheduler(web_settings, web_store, jobs=job)
    assert first.start()
    try:
        assert not second.start()
    finally:
        first.stop()
    assert second.start()  # the lock is released on stop
    second.stop()


def test_ingest_job_is_registered_and_disabled_by_zero_interval(web_settings):
    names = [j.name for j in JOBS]
    assert names[0] == "ingest"
    ingest = JOBS[0]
    assert ingest.every(web_settings) == 0  # the fixture sets ingest_interval_minutes = 0


def test_a_failed_job_runs_again_soon_and_then_less_often(web_settings, web_store):
    """Issue 19.5: offline at start, the ingest job retries after 2 min, 4, 8 ... never later
    than its own interval, and its usual interval again once it succeeds."""
    from paperboy.errors import SourceUnreachable
    from paperboy.jobs.scheduler import RETRY_AFTER_FAILURE

    outcomes = [SourceUnreachable("offline"), SourceUnreachable("offline"), None]

    def flaky(settings, store, searcher):
        exc = outcomes.pop(0)
        if exc:
            raise exc

    job = Job("ingest", every=lambda s: 3600.0, run=flaky)
    sched = Scheduler(web_settings, web_store, jobs=[job])
    assert sched.next_run_in(job) == 3600.0
    sched.run_job(job, log_failure=False)
    assert sched.next_run_in(job) == RETRY_AFTER_FAILURE
    assert isinstance(sched.failures["ingest"], SourceUnreachable)
    sched.run_job(job, log_failure=False)
    assert sched.next_run_in(job) == 2 * RETRY_AFTER_FAILURE
    sched.run_job(job)
    assert sched.next_run_in(job) == 3600.0 and not sched.failures and not sched.errors
