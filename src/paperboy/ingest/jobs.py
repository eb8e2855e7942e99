"""Scheduled and first-run ingest: the recent arXiv papers of some categories plus the
Hugging Face daily papers of the same days.

Used by ``paperboy up`` and the server's scheduler. It raises
:class:`~paperboy.errors.SourceUnavailable` (one line) when a source cannot be reached; every
batch stored before that stays stored, and the next run simply fetches again (imports are
idempotent).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from typing import Iterable, Iterator, Sequence

from paperboy.ingest.pipeline import BatchListener, IngestReport, run_ingest
from paperboy.records import Paper, Reject
from paperboy.settings import Settings
from paperboy.sources import arxiv_api, hf_daily
from paperboy.sources.http import PoliteClient
from paperboy.storage import Store


def utc_today() -> date:
    return datetime.now(timezone.utc).date()


def recent_days(days: int, today: date | None = None) -> tuple[date, date]:
    """The first and last day of the ``days`` most recent days (today included)."""
    until = today or utc_today()
    return until - timedelta(days=max(1, days) - 1), until


def arxiv_stream(client: PoliteClient, settings: Settings, categories: Sequence[str],
                      since: date, until: date) -> Iterator[Paper | Reject]:
    """All categories in one stream; a paper cross-listed in two is yielded once."""
    seen: set[str] = set()
    for category in categories:
        for item in arxiv_api.fetch(client, settings.arxiv_api_url, category, since, until):
            if isinstance(item, Paper):
                if item.id in seen:
                    continue
                seen.add(item.id)
            yield item


#: Papers whose arXiv fields one run fills at most (100 per request, 3 s apart: 30 s).
FILL_LIMIT = 1000


def arxiv_fields_stream(store: Store, settings: Settings, client: PoliteClient,
                        limit: int = FILL_LIMIT) -> Iterator[Paper | Reject] | None:
    """arXiv's records of the listed papers that came without categories (Hugging Face's),
    asked for by id in batches; None when every listed paper has its categories. Papers arXiv
    does not know stay as they are and are asked for again by the next run."""
    ids = store.papers.uncategorized_listed(limit)
    if not ids:
        return None
    return arxiv_api.fetch_ids(client, settings.arxiv_api_url, ids)


def fill_arxiv_fields(store: Store, settings: Settings, client: PoliteClient,
                      progress: bool | None = False, listeners: Iterable[BatchListener] = ()
                      ) -> IngestReport | None:
    """Categories (and the other arXiv fields) for listed papers that came without them."""
    items = arxiv_fields_stream(store, settings, client)
    if items is None:
        return None
    return run_ingest(store, items, arxiv_api.SOURCE, progress=progress, listeners=listeners)


def fetch_latest(
    store: Store,
    settings: Settings,
    days: int | None = None,
    categories: Sequence[str] | None = None,
    progress: bool | None = False,
    listeners: Iterable[BatchListener] = (),
    *,
    client: PoliteClient | None = None,
    today: date | None = None,
) -> list[IngestReport]:
    """Fetch the last ``days`` days (default settings.fetch_days) of ``categories`` (default
    settings.categories) from the arXiv API, then the HF daily papers of those days.

    Returns one report per source (arXiv, then HF), then one for the arXiv fields of HF
    papers that arXiv's lists did not bring (:func:`fill_arxiv_fields`), if any.
    """
    days = days or settings.fetch_days
    categories = list(categories or settings.categories)
    since, until = recent_days(days, today)
    listeners = list(listeners)
    own_client = client is None
    client = client or PoliteClient.from_settings(settings)
    try:
        reports = [
            run_ingest(store, arxiv_stream(client, settings, categories, since, until),
                       arxiv_api.SOURCE, progress=progress, listeners=listeners),
            run_ingest(store, hf_daily.fetch(client, settings.hf_base_url,
                                             hf_daily.days_between(since, until)),
                       hf_daily.SOURCE, progress=progress, listeners=listeners),
        ]
        filled = fill_arxiv_fields(store, settings, client, progress, listeners)
        if filled is not None:
            reports.append(filled)
    finally:
        if own_client:
            client.close()
    return reports
