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
import queue
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Callable, Iterable, Iterator, TextIO

from tqdm import tqdm

from paperboy.errors import SourceUnavailable
from paperboy.records import Checkpoint, Paper, Reject
from paperboy.sources.common import github_repo_in
from paperboy.storage import Store

#: Exit status of an import that stored what it could but rejected some records.
EXIT_REJECTED = 3


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


_DONE = object()

#: Collector thresholds while an import runs (Python's default: 700, 10, 10).
IMPORT_GC_THRESHOLD = (50_000, 20, 100)


@contextmanager
def fewer_collections() -> Iterator[None]:
    """Run the cyclic garbage collector less often for the duration of an import.

    An import allocates millions of short-lived, acyclic objects (records, row dicts, tuples)
    that reference counting frees at once; at the default thresholds the collector still ran
    a pass every 700 allocations, re-scanning everything alive: measured at 1.3x the import's
    time (100,000 snapshot lines: ~3,800 -> ~4,500-5,000 records/s). Restored afterwards."""
    before = gc.get_threshold()
    gc.set_threshold(*IMPORT_GC_THRESHOLD)
    try:
        yield
    finally:
        gc.set_threshold(*before)


def prefetched(items: Iterable, chunk: int = 256, depth: int = 8) -> Iterator:
    """Iterate ``items`` in a background thread, handing them over in order, in chunks.

    Parsing a source (Python) then overlaps with the database writes of the previous batch
    (SQLite and the PostgreSQL driver release the GIL while they work), which uses the second
    core. An exception the source raises arrives after every item yielded before it.
    """
    handoff: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(value) -> bool:
        while not stop.is_set():
            try:
                handoff.put(value, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        buf: list = []
        try:
            for item in items:
                buf.append(item)
                if len(buf) >= chunk:
                    if not put(buf):
                        return
                    buf = []
            if put(buf):
                put(_DONE)
        except BaseException as exc:  # delivered to the consuming thread, in order
            if put(buf):
                put(exc)

    thread = threading.Thread(target=produce, name="ingest-source", daemon=True)
    thread.start()
    try:
        while True:
            got = handoff.get()
            if got is _DONE:
                return
            if isinstance(got, BaseException):
                raise got
            yield from got
    finally:
        stop.set()


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
    prefetch: bool = True,
    bulk_index_after: int = 0,
) -> IngestReport:
    """Drain ``items`` into ``store``; ``progress=None`` shows a bar only on a terminal.

    With ``prefetch`` the source is read in a background thread (see :func:`prefetched`).
    ``bulk_index_after`` (0: never): once this run has added that many papers, and at least as
    many as the store held before it, the store's secondary indexes are set aside and rebuilt
    when the run ends (:mod:`paperboy.storage.bulk_indexes`).
    """
    report = IngestReport(source=source)
    errors = error_stream if error_stream is not None else sys.stderr
    listeners = list(listeners)
    batch: list[Paper] = []
    pending_state: dict[str, str] = {}
    started = time.monotonic()
    disable = (not errors.isatty()) if progress is None else not progress
    bar = tqdm(total=total, unit=unit, unit_scale=True, disable=disable, file=errors,
               desc=source, dynamic_ncols=True)

    aside = False
    check_bulk = bulk_index_after > 0

    def flush() -> None:
        nonlocal batch, pending_state, aside, check_bulk
        if not batch and not pending_state:
            return
        counts = store.papers.upsert(batch, source, state=pending_state or None)
        report.new += counts.new
        report.updated += counts.updated
        report.unchanged += counts.unchanged
        if counts.changed_ids:
            for listener in listeners:
                listener(counts.changed_ids)
        bar.update(len(batch))
        bar.set_postfix(new=report.new, upd=report.updated, rej=report.rejected, refresh=False)
        batch = []
        pending_state = {}
        if check_bulk and report.new >= bulk_index_after:
            check_bulk = False
            if report.new >= store.papers.count() - report.new:
                aside = store.papers.set_indexes_aside()

    with fewer_collections():
        try:
            for item in (prefetched(items) if prefetch else items):
                if isinstance(item, Paper):
                    if item.code_url is None and item.comments:
                        item.code_url = github_repo_in(item.comments)
                    batch.append(item)
                    if len(batch) >= batch_size:
                        flush()
                elif isinstance(item, Reject):
                    report.rejected += 1
                    line = f"rejected {item}"
                    if len(report.rejects) < _KEPT_REJECTS:
                        report.rejects.append(str(item))
                    if disable:
                        print(line, file=errors)
                    else:
                        bar.write(line, file=errors)
                    bar.update(1)
                elif isinstance(item, Checkpoint):
                    pending_state[item.key] = item.value
                    # The checkpoint covers the records before it: store them together now.
                    flush()
                else:  # pragma: no cover - a programming error in a source
                    raise TypeError(f"source {source} yielded {type(item).__name__}")
            flush()
        except SourceUnavailable as exc:
            # The records received before the failure are good: store them (their harvest cursor
            # only advances at the source's own checkpoints, so a re-run continues from there),
            # and tell the caller what went in.
            flush()
            report.seconds = time.monotonic() - started
            exc.report = report
            raise
        finally:
            bar.close()
            rebuild = None
            if aside:
                # SQLite sorts the set-aside indexes in a thread while the listeners finish
                # (the keyword index's last commit), both outside the GIL.
                if not disable:
                    print("rebuilding the indexes set aside for this import ...", file=errors)
                pool = ThreadPoolExecutor(1, thread_name_prefix="ingest-indexes")
                rebuild = pool.submit(store.papers.restore_indexes, owner=True)
                pool.shutdown(wait=False)  # the rebuild runs; the thread ends after it
            for listener in listeners:  # e.g. an index writer that commits at the end of the run
                close = getattr(listener, "close", None)
                if close is not None:
                    close()
            if rebuild is not None:
                rebuild.result()  # its exception, if any, is raised here
            report.seconds = time.monotonic() - started
    return report
