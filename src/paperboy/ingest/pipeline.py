"""The ingest pipeline: records from any source, in batches, into the store.

Sources yield :class:`~paperboy.records.Paper` or :class:`~paperboy.records.Reject`; the
pipeline reports each reject on one line (where + what), stores the good records in batches,
counts new / updated / unchanged / rejected, and tells listeners (search indexes) which papers
changed. A source may also yield a :class:`~paperboy.records.Checkpoint` (e.g. an OAI
resumption cursor), which is committed together with the records before it, so an interrupted
harvest resumes exactly there.
"""

from __future__ import annotations

import gc
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Callable, Iterable, Iterator, TextIO

from tqdm import tqdm

from paperboy.errors import PaperboyError, SourceUnavailable
from paperboy.records import Checkpoint, Paper, Reject
from paperboy.sources.common import github_repo_in
from paperboy.storage import Store

#: Exit status of an import that stored what it could but rejected some records.
EXIT_REJECTED = 3


class BatchNotStored(PaperboyError):
    """Storing one batch failed (the database refused it, or went away): the batches before it
    are stored, this one is not (its transaction rolled back)."""


@dataclass
class IngestReport:
    source: str
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    seconds: float = 0.0
    rejects: list[str] = field(default_factory=list)

    @property
    def seen(self) -> int:
        return self.new + self.updated + self.unchanged + self.rejected

    @property
    def exit_code(self) -> int:
        return EXIT_REJECTED if self.rejected else 0

    def summary(self) -> str:
        rate = self.seen / self.seconds if self.seconds > 0 else 0.0
        return (
            f"{self.source}: {self.new} new, {self.updated} updated, {self.unchanged} unchanged, "
            f"{self.rejected} rejected ({self.seen} records in {self.seconds:.1f}s, {rate:,.0f}/s)"
        )

    def as_dict(self) -> dict:
        return {
            "source": self.source,
            "new": self.new,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "rejected": self.rejected,
            "seconds": round(self.seconds, 3),
        }


#: Told the ids of each stored batch; one with a ``close()`` method is closed when the run ends.
BatchListener = Callable[[list[str]], None]

#: At most this many reject lines are kept in the report (all are printed and counted).
_KEPT_REJECTS = 1000


#: Collector thresholds while an import runs (Python's default: 700, 10, 10).
IMPORT_GC_THRESHOLD = (50_000, 20, 100)


@contextmanager
def fewer_collections() -> Iterator[None]:
    """Run the cyclic garbage collector less often for the duration of an import.

    An import allocates millions of short-lived, acyclic objects (records, row dicts, tuples)
    that reference counting frees at once; at the default thresholds the collector still makes
    a pass every 700 allocations over everything alive (what it saves: benchmarks/RESULTS.md,
    "Issue 17"). Restored afterwards."""
    before = gc.get_threshold()
    gc.set_threshold(*IMPORT_GC_THRESHOLD)
    try:
        yield
    finally:
        gc.set_threshold(*before)


class _Import:
    """One run of :func:`run_ingest`: the batch being filled, the counts, the progress bar."""

    def __init__(self, store: Store, source: str, batch_size: int, bar: tqdm, errors: TextIO,
                 listeners: list[BatchListener], bulk_index_after: int):
        self.store, self.source, self.batch_size = store, source, batch_size
        self.bar, self.errors, self.listeners = bar, errors, listeners
        self.report = IngestReport(source=source)
        self.started = time.monotonic()
        self.batch: list[Paper] = []
        self.pending_state: dict[str, str] = {}
        self.bulk_index_after = bulk_index_after
        #: the store's secondary indexes were set aside by this run (rebuilt in ``finish``)
        self.aside = False
        #: records taken from the source so far, rejects included, and the batch's first one:
        #: what a failed batch is named by
        self.position = self.batch_first = 0

    def take(self, item: Paper | Reject | Checkpoint) -> None:
        if isinstance(item, Paper):
            self.position += 1
            if not self.batch:
                self.batch_first = self.position
            self.add_paper(item)
        elif isinstance(item, Reject):
            self.reject(item)
        elif isinstance(item, Checkpoint):
            # The checkpoint covers the records before it: store them together now.
            self.pending_state[item.key] = item.value
            self.flush()
        else:  # pragma: no cover - a programming error in a source
            raise TypeError(f"source {self.source} yielded {type(item).__name__}")

    def add_paper(self, paper: Paper) -> None:
        if paper.code_url is None and paper.comments:
            paper.code_url = github_repo_in(paper.comments)
        self.batch.append(paper)
        if len(self.batch) >= self.batch_size:
            self.flush()

    def reject(self, item: Reject) -> None:
        self.position += 1
        report = self.report
        report.rejected += 1
        if len(report.rejects) < _KEPT_REJECTS:
            report.rejects.append(str(item))
        line = f"rejected {item}"
        if self.bar.disable:
            print(line, file=self.errors)
        else:
            self.bar.write(line, file=self.errors)
        self.bar.update(1)

    def flush(self) -> None:
        """Store the batch (and any checkpoint) in one transaction; tell the listeners."""
        if not self.batch and not self.pending_state:
            return
        try:
            counts = self.store.papers.upsert(self.batch, self.source,
                                              state=self.pending_state or None)
        except PaperboyError:
            raise
        except Exception as exc:  # the database's own error, named by the records it concerns
            raise self.not_stored(exc) from exc
        report = self.report
        report.new += counts.new
        report.updated += counts.updated
        report.unchanged += counts.unchanged
        if counts.changed_ids:
            for listener in self.listeners:
                listener(counts.changed_ids)
        self.bar.update(len(self.batch))
        self.bar.set_postfix(new=report.new, upd=report.updated, rej=report.rejected,
                             refresh=False)
        self.batch, self.pending_state = [], {}
        self.set_indexes_aside_when_large()

    def not_stored(self, exc: Exception) -> BatchNotStored:
        batch = self.batch
        what = (f"records {self.batch_first:,}-{self.position:,} ({batch[0].id} to {batch[-1].id})"
                if batch else "the source's checkpoint")
        said = str(exc).strip()
        problem = type(exc).__name__ + (f": {said.splitlines()[0]}" if said else "")
        return BatchNotStored(
            f"{self.source}: storing {what} failed: {problem}; what came before is stored, this "
            "is not: fix the cause and run the same command again to resume")

    def set_indexes_aside_when_large(self) -> None:
        """Once, when this run has added ``bulk_index_after`` papers and at least as many as
        the store held before it."""
        new = self.report.new
        if self.bulk_index_after > 0 and new >= self.bulk_index_after:
            self.bulk_index_after = 0
            if new >= self.store.papers.count() - new:
                self.aside = self.store.papers.set_indexes_aside()

    def finish(self) -> IngestReport:
        """Rebuild what was set aside while the listeners finish (the keyword index's last
        commit), both outside the GIL; then close the listeners."""
        self.bar.close()
        rebuild = None
        if self.aside:
            if not self.bar.disable:
                print("rebuilding the indexes set aside for this import ...", file=self.errors)
            pool = ThreadPoolExecutor(1, thread_name_prefix="ingest-indexes")
            rebuild = pool.submit(self.store.papers.restore_indexes, owner=True)
            pool.shutdown(wait=False)  # the rebuild runs; the thread ends after it
        for listener in self.listeners:  # e.g. an index writer that commits at the end
            close = getattr(listener, "close", None)
            if close is not None:
                close()
        if rebuild is not None:
            rebuild.result()  # its exception, if any, is raised here
        return self.stopped()

    def stopped(self) -> IngestReport:
        self.report.seconds = time.monotonic() - self.started
        return self.report


def run_ingest(
    store: Store,
    items: Iterable[Paper | Reject | Checkpoint],
    source: str,
    *,
    batch_size: int = 2000,
    progress: bool | None = None,
    total: int | None = None,
    error_stream: TextIO | None = None,
    listeners: Iterable[BatchListener] = (),
    unit: str = "rec",
    bulk_index_after: int = 0,
) -> IngestReport:
    """Drain ``items`` into ``store``; ``progress=None`` shows a bar only on a terminal.

    ``bulk_index_after`` (0: never): once this run has added that many papers, and at least as
    many as the store held before it, the store's secondary indexes are set aside and rebuilt
    when the run ends (:mod:`paperboy.storage.bulk_indexes`).
    """
    errors = error_stream if error_stream is not None else sys.stderr
    quiet = (not errors.isatty()) if progress is None else not progress
    bar = tqdm(total=total, unit=unit, unit_scale=True, disable=quiet, file=errors,
               desc=source, dynamic_ncols=True)
    run = _Import(store, source, batch_size, bar, errors, list(listeners), bulk_index_after)
    with fewer_collections():
        try:
            for item in items:
                run.take(item)
            run.flush()
        except SourceUnavailable as exc:
            # The records received before the failure are good: store them (their harvest
            # cursor only advances at the source's own checkpoints, so a re-run continues from
            # there), and tell the caller what went in.
            run.flush()
            exc.report = run.stopped()
            raise
        finally:
            report = run.finish()
    return report
