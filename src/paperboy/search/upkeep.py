"""The one way the search indexes follow the store.

Whatever stores papers tells this component, and only it writes the indexes:

* an import (CLI, the scheduler's ingest) passes :meth:`IndexUpkeep.listener` to the ingest
  pipeline, which calls it with every stored batch: the keyword index takes the batch in (one
  writer for the run) and, when asked, the changed papers are embedded;
* a one-off change (a paper submitted on the site) calls :meth:`IndexUpkeep.papers_changed`;
* everything else (what a killed import left behind, another process's writes, ``paperboy up``,
  ``paperboy index sync``, the scheduler's ``index`` job every few seconds) calls
  :meth:`IndexUpkeep.catch_up`.

Searches never write: they read what the index has committed (tantivy's reader follows commits
by itself) and at most say that some papers are still waiting (``lag_note`` of the keyword
backend, which reads one counter and never takes the writer). One upkeep belongs to one
:class:`~paperboy.search.service.SearchService` (``service.upkeep``), which the app and CLI
factories build once.
"""

from __future__ import annotations



class IndexUpkeep:
    def __init__(self, service):
        #: the SearchService whose indexes this keeps (it owns this upkeep: ``service.upkeep``)
        self.service = service

    def listener(self, embed: bool = False) -> "IndexListener":
        """A ``run_ingest`` listener for one import run (``close()`` ends it)."""
        return IndexListener(self, embed)

    def papers_changed(self, ids: list[str], embed: bool = True) -> None:
        """A few papers changed outside an import: index them now (and embed them)."""
        if not ids:
            return
        self.catch_up()
        if embed:
            self.service.embed_new(ids)

    def catch_up(self, progress: bool = False) -> int | None:
        """Index every paper changed since the keyword index last saw the store; None when
        another process holds the writer (it does the job). PostgreSQL needs nothing: its
        triggers keep the index in each transaction."""
        lexical = self.service.lexical
        bar = None
        if progress:
            pending = lexical.pending()
            if pending:
                from tqdm import tqdm

                bar = tqdm(total=pending, unit="paper", desc="keyword index", dynamic_ncols=True)
        try:
            return lexical.sync(progress=bar.update if bar is not None else None)
        finally:
            if bar is not None:
                bar.close()


class IndexListener:
    """Told the ids of every stored batch of an import; ``close`` ends the run.

    The keyword index takes in each batch (tantivy on SQLite: one writer for the run, in a
    helper process past the first batches; on PostgreSQL triggers did it in the same
    transaction). With ``embed`` the changed papers are embedded right away (daily ingests);
    bulk imports leave that to `paperboy embed`.
    """

    def __init__(self, upkeep: IndexUpkeep, embed: bool):
        self.service = upkeep.service
        self.embed = embed
        self.keywords = self.service.lexical.follower()

    def __call__(self, ids: list[str]) -> None:
        if self.keywords is not None:
            self.keywords(ids)
        if self.embed and ids:
            self.service.embed_new(ids)

    def close(self) -> None:
        if self.keywords is not None:
            self.keywords.close()
