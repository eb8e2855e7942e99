"""The keyword index filled by a helper process while a bulk import runs.

Why a process: the import's own thread is the critical path, and the follower's Python work
(reading each batch back from the store, building tantivy's documents) took a large share of
it, under the same GIL. A helper process has its own interpreter, so that work and tantivy's tokenizing
run on the second core, beside the import (benchmarks/RESULTS.md, "Ingest").

The protocol is a pipe: the importer writes one byte after each stored batch, and closing the
pipe (or dying) tells the helper to take in the rest, commit and exit. The helper reads the
papers by rev from the database like any sync, so it never needs the batches themselves, and
what it has not committed when anything dies is taken in by the next sync. Exit status 0: done;
:data:`BUSY`: another process holds the index's writer (it will catch up by rev).

Run as ``python -m paperboy.search.follow_process DATABASE_URL INDEX_DIR HEAP_MB``.
"""

from __future__ import annotations

import logging
import os
import select
import subprocess
import sys
import tempfile
import time
from pathlib import Path

log = logging.getLogger(__name__)

#: Exit status when another process holds the keyword index's writer.
BUSY = 17
#: SQLite page cache of the helper: it reads each paper once, in rev order.
HELPER_CACHE_MB = 8
#: Seconds between commits of the helper's writer (what searches see meanwhile).
COMMIT_EVERY = 5.0


def follow(database_url: str, index_dir: Path, heap_mb: int, wake_fd: int = 0) -> int:
    """Keep the index under ``index_dir`` up with the store until ``wake_fd`` reaches EOF."""
    from paperboy.search.keywords import KeywordIndex, docs_reader
    from paperboy.storage.database import make_engine
    from paperboy.storage.search_index import SearchIndexRepository

    engine = make_engine(database_url, cache_mb=HELPER_CACHE_MB)
    try:
        fetch = docs_reader(SearchIndexRepository(engine))
        writer = KeywordIndex(index_dir).writer(heap_mb=heap_mb)
        if writer is None:
            return BUSY
        committed = time.monotonic()
        try:
            done = False
            while not done:
                ready, _, _ = select.select([wake_fd], [], [], 1.0)
                if ready and not os.read(wake_fd, 65536):
                    done = True  # the importer finished (or died): take in the rest, stop
                writer.catch_up(fetch)
                if time.monotonic() - committed >= COMMIT_EVERY:
                    writer.commit()
                    committed = time.monotonic()
        finally:
            writer.close()
        return 0
    finally:
        engine.dispose()


class Helper:
    """The importer's handle on a helper process (see the module's docstring)."""

    def __init__(self, database_url: str, index_dir: Path, heap_mb: int):
        import paperboy

        self._log = tempfile.TemporaryFile()
        env = dict(os.environ)
        # the same paperboy as this process, wherever it was imported from
        root = str(Path(paperboy.__file__).resolve().parents[1])
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [root, env.get("PYTHONPATH")]))
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "paperboy.search.follow_process", database_url,
             str(index_dir), str(heap_mb)],
            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=self._log, env=env)

    def poke(self) -> bool:
        """Tell the helper a batch was stored; False when it is gone."""
        if self.proc.poll() is not None:
            return False
        try:
            self.proc.stdin.write(b".")
            self.proc.stdin.flush()
        except OSError:  # BrokenPipeError: it exited meanwhile
            return False
        return True

    def finish(self) -> bool:
        """Let the helper take in the rest and wait for it; False when it failed (the caller
        then indexes what is left itself)."""
        try:
            self.proc.stdin.close()
        except OSError:
            pass
        code = self.proc.wait()
        if code in (0, BUSY):
            self._log.close()
            return True
        self._log.seek(0)
        lines = self._log.read().decode(errors="replace").strip().splitlines()
        self._log.close()
        log.warning("keyword index helper exited with status %s: %s", code,
                    lines[-1] if lines else "no message")
        return False


def main(argv: list[str]) -> int:
    url, index_dir, heap_mb = argv
    return follow(url, Path(index_dir), int(heap_mb))


if __name__ == "__main__":  # pragma: no cover - run by KeywordFollower in a child process
    sys.exit(main(sys.argv[1:]))
