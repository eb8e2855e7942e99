"""Submitting a paper by arXiv id or URL: fetch its metadata from the arXiv API, store it, and
list it in the daily feed of the submission day (source "submitted", with the submitter)."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import date

from paperboy.errors import PaperboyError
from paperboy.ids import parse_arxiv_id
from paperboy.records import Listing, Paper
from paperboy.settings import Settings
from paperboy.storage.community import SUBMITTED_SOURCE

log = logging.getLogger(__name__)
OFFLINE = "arXiv could not be reached; try again later."


class SubmitError(PaperboyError):
    """The submission cannot go in; the message is for the user."""


class AlreadyHere(PaperboyError):
    def __init__(self, paper_id: str):
        self.paper_id = paper_id
        super().__init__(f"{paper_id} is already on Paperboy")


def parse_submission(text: str) -> str:
    parsed = parse_arxiv_id((text or "").strip())
    if parsed is None:
        raise SubmitError("That is not an arXiv id or arXiv link (e.g. 2410.17243 or "
                          "https://arxiv.org/abs/2410.17243).")
    return parsed[0]


def fetch_arxiv_paper(settings: Settings, arxiv_id: str, transport=None) -> Paper:
    """One paper from the arXiv API (``id_list``), or SubmitError when arXiv does not know it."""
    from paperboy.errors import SourceUnavailable
    from paperboy.sources import arxiv_api
    from paperboy.sources.http import PoliteClient
    from paperboy.sources.xmlsafe import XMLProblem

    client = PoliteClient(interval=0, retries=min(settings.http_retries, 2),
                          timeout=min(settings.http_timeout, 20.0), backoff=0.5,
                          deadline=min(settings.http_deadline, 20.0),
                          max_bytes=settings.http_max_bytes,
                          transport=transport)
    try:
        response = client.get(settings.arxiv_api_url, params={"id_list": arxiv_id,
                                                              "max_results": "1"})
        records, _total = arxiv_api.parse_feed(response.content, f"arXiv API id_list={arxiv_id}")
    except SourceUnavailable as exc:  # the reader gets one plain sentence, the log the rest
        log.warning("submit %s: arXiv API unreachable: %s", arxiv_id, exc)
        raise SubmitError(OFFLINE) from None
    except XMLProblem as exc:
        log.warning("submit %s: arXiv API answered an invalid feed: %s", arxiv_id, exc)
        raise SubmitError(OFFLINE) from None
    finally:
        client.close()
    for record in records:
        if isinstance(record, Paper) and record.id == arxiv_id:
            return record
    raise SubmitError(f"arXiv has no paper {arxiv_id}.")


def submit(store, settings: Settings, username: str, text: str, today: date,
           transport=None, searcher=None) -> str:
    """Store and list the paper; returns its id. A paper the store has but never listed (e.g. from
    a bulk import) goes on today's list as it is; AlreadyHere for one already listed."""
    arxiv_id = parse_submission(text)
    stored = store.papers.get(arxiv_id)
    if stored is not None:
        if store.community.is_paper_hidden(arxiv_id):
            raise SubmitError(f"{arxiv_id} was hidden by this site's administrators.")
        if store.papers.listings(arxiv_id):
            raise AlreadyHere(arxiv_id)
    paper = stored if stored is not None else fetch_arxiv_paper(settings, arxiv_id, transport=transport)
    listing = Listing(source=SUBMITTED_SOURCE, listed_on=today, submitter=username)
    store.papers.upsert([replace(paper, listing=listing)], source=SUBMITTED_SOURCE)
    if searcher is not None:
        try:
            searcher.upkeep.papers_changed([arxiv_id])
        except Exception:  # the index catches up at the next rebuild; the submission stands
            pass
    return arxiv_id
