"""arXiv API (Atom, export.arxiv.org/api/query): papers of a category submitted in a date range.

Pages through ``search_query=cat:C AND submittedDate:[FROM TO]`` sorted by submission date,
``max_results`` at a time, through the polite client (one request per 3 s by default). Stops on
an empty page, a page that brings no id not already seen, or past ``opensearch:totalResults``.
A page that is not valid XML is reported as one rejected record (earlier pages are kept).
"""

from __future__ import annotations

from datetime import date
from typing import Iterator
from xml.etree.ElementTree import Element

from paperboy.records import Paper, Reject
from paperboy.sources.common import BadValue, arxiv_paper, parse_datetime, split_arxiv_id, squash
from paperboy.sources.http import PoliteClient
from paperboy.sources.validate import checked
from paperboy.sources.xmlsafe import XMLProblem, parse_xml, text

SOURCE = "arxiv"

ATOM = "{http://www.w3.org/2005/Atom}"
ARXIV = "{http://arxiv.org/schemas/atom}"
OPENSEARCH = "{http://a9.com/-/spec/opensearch/1.1/}"


def search_query(category: str, since: date, until: date) -> str:
    return (
        f"cat:{category} AND submittedDate:[{since:%Y%m%d}0000 TO {until:%Y%m%d}2359]"
    )


def parse_entry(entry: Element) -> Paper:
    """One Atom entry as a Paper; raises BadValue naming what is wrong."""
    raw_id = text(entry, f"{ATOM}id")
    if not raw_id:
        raise BadValue("entry without <id>")
    if "/api/errors" in raw_id:
        raise BadValue(f"arXiv API error: {text(entry, f'{ATOM}summary') or raw_id}")
    arxiv_id, version = split_arxiv_id(raw_id)
    title = text(entry, f"{ATOM}title")
    if not title:
        raise BadValue("missing title")
    published = text(entry, f"{ATOM}published")
    updated = text(entry, f"{ATOM}updated")
    primary = entry.find(f"{ARXIV}primary_category")
    categories = [c.get("term") for c in entry.findall(f"{ATOM}category") if c.get("term")]
    primary_term = primary.get("term") if primary is not None else None
    if primary_term and primary_term not in categories:
        categories.insert(0, primary_term)
    # The feed's links name a version (…/abs/2410.17243v1); the stored links stay versionless
    # so they always open the latest version and do not change the record on every revision.
    pdf = None
    for link in entry.findall(f"{ATOM}link"):
        if link.get("title") == "pdf" or link.get("type") == "application/pdf":
            pdf = link.get("href")
    values = dict(
        title=title,
        abstract=squash(text(entry, f"{ATOM}summary")),
        authors=[n for n in (text(a, f"{ATOM}name") for a in entry.findall(f"{ATOM}author")) if n],
        categories=categories,
        primary_category=primary_term or (categories[0] if categories else None),
        version=version,
        published=parse_datetime(published, "published") if published else None,
        updated=parse_datetime(updated, "updated") if updated else None,
        comments=text(entry, f"{ARXIV}comment"),
        journal_ref=text(entry, f"{ARXIV}journal_ref"),
        doi=text(entry, f"{ARXIV}doi"),
    )
    if pdf and version is None:  # an unversioned PDF link is already canonical
        values["pdf_url"] = pdf
    return arxiv_paper(arxiv_id, **values)


def parse_feed(data: bytes, location: str) -> tuple[list[Paper | Reject], int | None]:
    """Records of one Atom page and the feed's totalResults; XML problems raise XMLProblem."""
    root = parse_xml(data)
    total_raw = text(root, f"{OPENSEARCH}totalResults")
    total = int(total_raw) if total_raw and total_raw.isdigit() else None
    out: list[Paper | Reject] = []
    for n, entry in enumerate(root.findall(f"{ATOM}entry"), 1):
        out.append(checked(lambda: parse_entry(entry),
                           lambda: f"{location} {_shown_id(text(entry, f'{ATOM}id'), n)}"))
    return out, total


def _shown_id(ident: str | None, n: int) -> str:
    return ident if ident and len(ident) <= 200 else f"entry {n}"


def fetch(
    client: PoliteClient,
    base_url: str,
    category: str,
    since: date,
    until: date,
    *,
    page_size: int = 200,
    max_pages: int = 500,
) -> Iterator[Paper | Reject]:
    """Every paper of ``category`` submitted between ``since`` and ``until`` (inclusive)."""
    query = search_query(category, since, until)
    seen: set[str] = set()
    start = 0
    for _ in range(max_pages):
        params = {
            "search_query": query,
            "sortBy": "submittedDate",
            "sortOrder": "ascending",
            "start": str(start),
            "max_results": str(page_size),
        }
        location = f"arXiv API {category} start={start}"
        records, total = _page(client, base_url, params, location)
        if isinstance(records, Reject):
            # Without a readable page we cannot know what follows: report it and stop here.
            yield records
            return
        if not records:
            return
        fresh = 0
        for record in records:
            if isinstance(record, Paper):
                if record.id in seen:
                    continue
                seen.add(record.id)
                fresh += 1
            yield record
        start += len(records)
        if fresh == 0 or (total is not None and start >= total):
            return


def fetch_ids(
    client: PoliteClient,
    base_url: str,
    ids: list[str],
    *,
    batch_size: int = 100,
) -> Iterator[Paper | Reject]:
    """The arXiv records of known ids, ``batch_size`` per request (``id_list``): how papers
    that came from a list without arXiv's fields (Hugging Face's daily papers have no
    categories) get them. An id arXiv does not know comes back as an error entry, reported as
    one rejected record; an unreadable page rejects its batch and the next batch goes on."""
    ids = list(dict.fromkeys(ids))
    for start in range(0, len(ids), batch_size):
        chunk = ids[start:start + batch_size]
        params = {"id_list": ",".join(chunk), "start": "0", "max_results": str(len(chunk))}
        location = f"arXiv API id_list {chunk[0]}..{chunk[-1]} ({len(chunk)} ids)"
        records, _total = _page(client, base_url, params, location)
        if isinstance(records, Reject):
            yield records
            continue
        yield from records


def _page(client: PoliteClient, base_url: str, params: dict, location: str):
    """One API answer parsed: (records, total), or (Reject, None) for a page that is not a
    readable feed."""
    response = client.get(base_url, params=params)
    try:
        return parse_feed(response.content, location)
    except XMLProblem as exc:
        return Reject(location, str(exc)), None
