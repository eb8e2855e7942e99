"""Import a reader's library file into their "For you" signals.

Each entry of the file (:mod:`paperboy.sources.library`) is matched to a stored paper by arXiv
id, then DOI, then normalized title. arXiv ids the store does not have are fetched from the arXiv
API (``id_list``, up to :data:`FETCH_BATCH` ids a request, at most :data:`MAX_FETCH` per import)
and stored like a submission; when arXiv cannot be reached, or does not know an id, the entry is
reported on one line, never dropped silently. Re-importing the same file adds nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from paperboy.errors import SourceUnavailable
from paperboy.records import Paper
from paperboy.settings import Settings
from paperboy.sources import arxiv_api
from paperboy.sources.http import PoliteClient
from paperboy.sources.library import LibraryEntry, normalize_title, parse_library
from paperboy.sources.xmlsafe import XMLProblem
from paperboy.storage import Store

log = logging.getLogger(__name__)

FETCH_BATCH = 50
MAX_FETCH = 200


@dataclass
class ImportReport:
    format: str = ""
    entries: int = 0
    matched: int = 0     # entries found in the store (by id, DOI or title) or fetched
    fetched: int = 0     # papers fetched from arXiv for this import
    added: int = 0       # library rows that are new (0 on a re-import)
    problems: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return (f"{self.format}: {self.entries} entries, {self.matched} matched "
                f"({self.fetched} fetched from arXiv), {self.added} new in your library, "
                f"{len(self.problems)} not imported")


def import_library(store: Store, settings: Settings, user_id: int, data: bytes,
                   name: str = "library", fmt: str | None = None, transport=None,
                   fetch: bool = True) -> ImportReport:
    """Parse, match, fetch what is missing, and add to the reader's library. A file that cannot
    be read at all raises :class:`paperboy.sources.library.LibraryError`."""
    parsed = parse_library(data, name, fmt)
    report = ImportReport(format=parsed.format, entries=len(parsed.entries))
    report.problems.extend(f"{name}:{p.line}: {p.message}" for p in parsed.problems)
    entries = parsed.entries
    matched: dict[int, str] = {}  # index of entry -> paper id

    arxiv_ids = [e.arxiv_id for e in entries if e.arxiv_id]
    present = store.signals.visible_ids(arxiv_ids)
    for i, e in enumerate(entries):
        if e.arxiv_id in present:
            matched[i] = e.arxiv_id
    by_doi = store.signals.ids_by_doi([e.doi for i, e in enumerate(entries)
                                       if i not in matched and e.doi])
    for i, e in enumerate(entries):
        if i not in matched and e.doi and e.doi in by_doi:
            matched[i] = by_doi[e.doi]
    titles = {e.title_key for i, e in enumerate(entries)
              if i not in matched and not e.arxiv_id and e.title_key}
    by_title = store.signals.ids_by_title(titles, normalize_title)
    for i, e in enumerate(entries):
        if i not in matched and not e.arxiv_id and e.title_key in by_title:
            matched[i] = by_title[e.title_key]

    missing = list(dict.fromkeys(e.arxiv_id for i, e in enumerate(entries)
                                 if i not in matched and e.arxiv_id))
    fetched, why = (_fetch(store, settings, missing[:MAX_FETCH], transport) if fetch and missing
                    else (set(), "fetching from arXiv is off"))
    report.fetched = len(fetched)
    for i, e in enumerate(entries):
        if i in matched:
            continue
        if e.arxiv_id in fetched:
            matched[i] = e.arxiv_id
            continue
        report.problems.append(f"{name}:{e.line}: {e.label[:80]!r}: " + _reason(e, missing, why))
    report.matched = len(matched)
    report.added = store.signals.add_to_library(
        user_id, [(pid, entries[i].label) for i, pid in sorted(matched.items())])
    return report


def _reason(e: LibraryEntry, missing: list[str], why: str) -> str:
    if e.arxiv_id:
        if e.arxiv_id not in missing[:MAX_FETCH]:
            return f"arXiv {e.arxiv_id} not here; at most {MAX_FETCH} papers are fetched per import, import the file again for the rest"
        return f"arXiv {e.arxiv_id} not here and not fetched ({why})"
    if e.doi:
        return f"no paper here with DOI {e.doi} or this title"
    return "no paper here with this title"


def _fetch(store: Store, settings: Settings, ids: list[str], transport) -> tuple[set[str], str]:
    """Fetch and store the papers arXiv knows among ``ids``; (ids stored, why others are not)."""
    client = PoliteClient(interval=settings.request_interval if transport is None else 0,
                          retries=min(settings.http_retries, 2),
                          timeout=min(settings.http_timeout, 20.0), backoff=0.5,
                          transport=transport)
    got: list[Paper] = []
    why = "arXiv does not know it"
    try:
        for start in range(0, len(ids), FETCH_BATCH):
            batch = ids[start:start + FETCH_BATCH]
            response = client.get(settings.arxiv_api_url,
                                  params={"id_list": ",".join(batch),
                                          "max_results": str(len(batch))})
            records, _ = arxiv_api.parse_feed(response.content, "arXiv API id_list")
            got.extend(r for r in records if isinstance(r, Paper) and r.id in batch)
    except SourceUnavailable as exc:
        why = f"arXiv could not be reached: {str(exc)[:100]}; import again later"
    except XMLProblem:
        why = "arXiv answered with something that is not a feed; import again later"
    finally:
        client.close()
    if got:
        store.papers.upsert(got, source=arxiv_api.SOURCE)
    return {p.id for p in got}, why
