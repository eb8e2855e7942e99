"""Periodic jobs inside ``paperboy serve`` (a background thread) or ``paperboy worker``.

This package sits below the web app and the CLI and above the areas whose work it schedules
(ingest, mail), so both entry points share one scheduler.

Jobs are listed once in :data:`JOBS` (an area adds its job there with one line). Each job runs in the scheduler's own thread,
never in a request. With several server processes on one data directory, a file lock makes
exactly one of them the scheduler; the others stay idle (a job failure is logged, not fatal).
"""

from __future__ import annotations

import fcntl
import logging
import threading
import time
from dataclasses import dataclass
from typing import Callable

from paperboy.ingest.jobs import fetch_latest
from paperboy.jobs.for_you import digest_picks
from paperboy.mail.digest import digest_job_interval, scheduler_job
from paperboy.settings import Settings

log = logging.getLogger(__name__)

#: Seconds before a failed job (say, no network at first start) runs again; doubles with each
#: failure in a row, never beyond the job's own interval.
RETRY_AFTER_FAILURE = 120.0

JobFn = Callable[[Settings, object, object], object]  # (settings, store, searcher)


@dataclass
class Job:
    name: str
    #: seconds between runs for these settings; 0 or less disables the job
    every: Callable[[Settings], float]
    run: JobFn
    #: run once right after start instead of waiting a full interval
    run_at_start: bool = False


def ingest_job(settings: Settings, store, searcher) -> object:
    """Fetch the latest days of the configured categories (arXiv + Hugging Face); the search
    upkeep takes in every stored batch and embeds the new papers."""
    listeners = [searcher.upkeep.listener(embed=True)] if searcher is not None else []
    return fetch_latest(store, settings, days=2, categories=settings.categories,
                        progress=False, listeners=listeners)


def index_job(settings: Settings, store, searcher) -> object:
    """Index what the store holds and the keyword index not yet (what a killed import or
    another process left); costs one counter read when there is nothing to do."""
    return searcher.upkeep.catch_up() if searcher is not None else None


def digest_job(settings: Settings, store, searcher) -> object:
    """The digests due now, each with its reader's "For you" picks where it has an account."""
    return scheduler_job(settings, store, searcher, personal=digest_picks(store, settings))


JOBS: list[Job] = [
    Job("ingest", every=lambda s: s.ingest_interval_minutes * 60.0, run=ingest_job),
    Job("index", every=lambda s: s.index_upkeep_seconds, run=index_job, run_at_start=True),
    Job("digest", every=digest_job_interval, run=digest_job),
]


class Scheduler:
    """Runs :data:`JOBS` on their intervals in one daemon thread until :meth:`stop`."""

    def __init__(self, settings: Settings, store, searcher=None, jobs: list[Job] | None = None,
                 tick: float = 1.0):
        self.settings = settings
        self.store = store
        self.searcher = searcher
        self.jobs = list(JOBS if jobs is None else jobs)
        self.tick = tick
        self.runs: dict[str, int] = {}
        self.errors: dict[str, str] = {}
        #: the exception of each job's last run when it failed (for exit statuses)
        self.failures: dict[str, Exception] = {}
        self._failed_in_a_row: dict[str, int] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock_file = None

    def _acquire(self) -> bool:
        self.settings.data_dir.mkdir(parents=True, exist_ok=True)
        fh = open(self.settings.data_dir / "scheduler.lock", "a+")
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            fh.close()
            return False
        self._lock_file = fh
        return True

    def start(self) -> bool:
        """Start the thread; False when another process already schedules jobs."""
        active = [j for j in self.jobs if j.every(self.settings) > 0]
        if not active or not self._acquire():
            return False
        self._thread = threading.Thread(target=self._loop, args=(active,), name="paperboy-jobs",
                                        daemon=True)
        self._thread.start()
        return True

    def run_forever(self) -> None:
        """For ``paperboy worker``: run in the calling thread until interrupted."""
        active = [j for j in self.jobs if j.every(self.settings) > 0]
        if not self._acquire():
            raise RuntimeError("another Paperboy process already runs the scheduled jobs")
        self._loop(active)

    def _loop(self, jobs: list[Job]) -> None:
        now = time.monotonic()
        due = {j.name: (now if j.run_at_start else now + j.every(self.settings)) for j in jobs}
        while not self._stop.is_set():
            now = time.monotonic()
            for job in jobs:
                if now >= due[job.name] and not self._stop.is_set():
                    self.run_job(job)
                    due[job.name] = time.monotonic() + self.next_run_in(job)
            self._stop.wait(self.tick)

    def next_run_in(self, job: Job) -> float:
        """Seconds until the job's next run: its interval, sooner after a failure."""
        every = job.every(self.settings)
        failed = self._failed_in_a_row.get(job.name, 0)
        if not failed:
            return every
        return min(every, RETRY_AFTER_FAILURE * 2 ** (failed - 1))

    def run_job(self, job: Job, log_failure: bool = True) -> None:
        """Run one job; a failure is kept in :attr:`errors` and logged unless the caller
        reports it itself (``paperboy worker --once``)."""
        started = time.monotonic()
        try:
            job.run(self.settings, self.store, self.searcher)
        except Exception as exc:  # a failing job must not kill the scheduler
            self.errors[job.name] = str(exc)
            self.failures[job.name] = exc
            self._failed_in_a_row[job.name] = self._failed_in_a_row.get(job.name, 0) + 1
            if log_failure:
                log.warning("job %s failed: %s", job.name, exc)
        else:
            self.errors.pop(job.name, None)
            self.failures.pop(job.name, None)
            self._failed_in_a_row.pop(job.name, None)
        self.runs[job.name] = self.runs.get(job.name, 0) + 1
        log.info("job %s finished in %.1fs", job.name, time.monotonic() - started)

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
        if self._lock_file is not None:
            self._lock_file.close()
            self._lock_file = None
