"""arXiv OAI-PMH (``ListRecords``, metadata ``arXiv`` or ``arXivRaw``): incremental harvests.

A harvest asks for the records of a set (``cs``) changed since a datestamp and follows
``resumptionToken`` pages. After every page the source yields a
:class:`~paperboy.records.Checkpoint` holding the cursor (JSON: the token, or when the
list is complete the datestamp the next harvest starts from). The pipeline commits it together
with the page's records, so a harvest that is interrupted, or simply run again later, continues
exactly where the stored cursor says.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Iterator
from xml.etree.ElementTree import Element

from paperboy.errors import PaperboyError
from paperboy.records import Checkpoint, Paper, Reject
from paperboy.sources.common import (
    BadValue,
    arxiv_paper,
    parse_datetime,
    split_arxiv_id,
    squash,
)
from paperboy.sources.http import PoliteClient
from paperboy.sources.validate import checked
from paperboy.sources.xmlsafe import XMLProblem, parse_xml, text

SOURCE = "oai"
METADATA_PREFIXES = ("arXiv", "arXivRaw")

OAI = "{http://www.openarchives.org/OAI/2.0/}"
ARXIV = "{http://arxiv.org/OAI/arXiv/}"
RAW = "{http://arxiv.org/OAI/arXivRaw/}"


class OAIError(PaperboyError):
    """The OAI-PMH server answered with an error other than 'no records'."""


def cursor_key(set_spec: str | None, metadata_prefix: str) -> str:
    return f"oai:{set_spec or 'all'}:{metadata_prefix}"


def split_author_string(raw: str) -> list[str]:
    """``'A. One, B. Two and C. Three'`` -> three names (arXivRaw and snapshot author strings)."""
    flat = squash(raw)
    if not flat:
        return []
    parts = []
    for chunk in flat.replace(" and ", ", ").split(","):
        name = chunk.strip()
        if name:
            parts.append(name)
    return parts


def _name(keyname: str | None, forenames: str | None, suffix: str | None) -> str:
    return " ".join(p for p in (forenames, keyname, suffix) if p)


def parse_arxiv(meta: Element) -> Paper:
    """The ``arXiv`` format: structured authors, created/updated dates, no version number."""
    arxiv_id, _ = split_arxiv_id(text(meta, f"{ARXIV}id") or "")
    title = text(meta, f"{ARXIV}title")
    if not title:
        raise BadValue("missing title")
    authors = []
    for a in meta.findall(f"{ARXIV}authors/{ARXIV}author"):
        name = _name(text(a, f"{ARXIV}keyname"), text(a, f"{ARXIV}forenames"),
                     text(a, f"{ARXIV}suffix"))
        if name:
            authors.append(name)
    categories = (text(meta, f"{ARXIV}categories") or "").split()
    created = text(meta, f"{ARXIV}created")
    updated = text(meta, f"{ARXIV}updated")
    published = parse_datetime(created, "created") if created else None
    return arxiv_paper(
        arxiv_id,
        title=title,
        abstract=squash(text(meta, f"{ARXIV}abstract")),
        authors=authors,
        categories=categories,
        primary_category=categories[0] if categories else None,
        published=published,
        updated=parse_datetime(updated, "updated") if updated else published,
        comments=text(meta, f"{ARXIV}comments"),
        journal_ref=text(meta, f"{ARXIV}journal-ref"),
        doi=text(meta, f"{ARXIV}doi"),
        license=text(meta, f"{ARXIV}license"),
    )


def parse_arxiv_raw(meta: Element) -> Paper:
    """The ``arXivRaw`` format: every version with its date, authors as one string."""
    arxiv_id, _ = split_arxiv_id(text(meta, f"{RAW}id") or "")
    title = text(meta, f"{RAW}title")
    if not title:
        raise BadValue("missing title")
    versions = []
    for v in meta.findall(f"{RAW}version"):
        label = (v.get("version") or "").lstrip("v")
        when = text(v, f"{RAW}date")
        if not label.isdigit() or not when:
            raise BadValue(f"bad version entry {v.get('version')!r}")
        versions.append((int(label), parse_datetime(when, f"date of v{label}")))
    versions.sort()
    categories = (text(meta, f"{RAW}categories") or "").split()
    return arxiv_paper(
        arxiv_id,
        title=title,
        abstract=squash(text(meta, f"{RAW}abstract")),
        authors=split_author_string(text(meta, f"{RAW}authors") or ""),
        categories=categories,
        primary_category=categories[0] if categories else None,
        version=versions[-1][0] if versions else None,
        published=versions[0][1] if versions else None,
        updated=versions[-1][1] if versions else None,
        comments=text(meta, f"{RAW}comments"),
        journal_ref=text(meta, f"{RAW}journal-ref"),
        doi=text(meta, f"{RAW}doi"),
        license=text(meta, f"{RAW}license"),
    )


def parse_record(record: Element) -> Paper | None:
    """A Paper, or None for a deleted record; raises BadValue when the metadata is unusable."""
    header = record.find(f"{OAI}header")
    if header is not None and header.get("status") == "deleted":
        return None
    metadata = record.find(f"{OAI}metadata")
    if metadata is None or len(metadata) == 0:
        raise BadValue("record without metadata")
    meta = metadata[0]
    if meta.tag == f"{ARXIV}arXiv":
        return parse_arxiv(meta)
    if meta.tag == f"{RAW}arXivRaw":
        return parse_arxiv_raw(meta)
    raise BadValue(f"unsupported metadata format {meta.tag}")


def _ident(record: Element, n: int) -> str:
    ident = text(record, f"{OAI}header/{OAI}identifier")
    return ident if ident and len(ident) <= 200 else f"record {n}"


def harvest(
    client: PoliteClient,
    base_url: str,
    *,
    set_spec: str | None = "cs",
    metadata_prefix: str = "arXiv",
    from_date: date | None = None,
    cursor: str | None = None,
    max_pages: int = 100_000,
) -> Iterator[Paper | Reject | Checkpoint]:
    """Records changed since ``from_date`` (or since the stored ``cursor``), page by page.

    ``cursor`` is the value of the last Checkpoint a previous run committed. An explicit
    ``from_date`` starts a fresh harvest from that day instead.
    """
    if metadata_prefix not in METADATA_PREFIXES:
        raise PaperboyError(f"metadata prefix must be one of {', '.join(METADATA_PREFIXES)}")
    key = cursor_key(set_spec, metadata_prefix)
    state: dict = {}
    if cursor and from_date is None:
        try:
            state = json.loads(cursor)
        except ValueError:
            state = {}
    if from_date is not None:
        state = {"from": from_date.isoformat()}
    token = state.get("token")
    harvest_from = state.get("from")
    next_from = state.get("next_from")
    retried_token = False
    tokens_seen: set[str] = {token} if token else set()

    for _ in range(max_pages):
        if token:
            params = {"verb": "ListRecords", "resumptionToken": token}
        else:
            params = {"verb": "ListRecords", "metadataPrefix": metadata_prefix}
            if set_spec:
                params["set"] = set_spec
            if harvest_from:
                params["from"] = harvest_from
        location = f"OAI-PMH {'resumptionToken=' + token if token else 'from=' + str(harvest_from)}"
        response = client.get(base_url, params=params)
        try:
            root = parse_xml(response.content)
        except XMLProblem as exc:
            yield Reject(location, str(exc))
            return
        if next_from is None:
            next_from = (text(root, f"{OAI}responseDate") or date.today().isoformat())[:10]
        error = root.find(f"{OAI}error")
        if error is not None:
            code = error.get("code", "")
            if code == "noRecordsMatch":
                yield Checkpoint(key, json.dumps({"token": None, "from": next_from}))
                return
            if code == "badResumptionToken" and token and not retried_token:
                # Tokens expire; start the interrupted harvest again from its datestamp.
                token, retried_token = None, True
                continue
            raise OAIError(f"OAI-PMH error {code}: {squash(error.text) or 'no message'}")
        listing = root.find(f"{OAI}ListRecords")
        if listing is None:
            yield Reject(location, "response has neither ListRecords nor error")
            return
        for n, record in enumerate(listing.findall(f"{OAI}record"), 1):
            paper = checked(lambda: parse_record(record), lambda: f"{location} {_ident(record, n)}")
            if paper is not None:
                yield paper
        token_el = listing.find(f"{OAI}resumptionToken")
        token = (token_el.text or "").strip() if token_el is not None else ""
        if token and token in tokens_seen:
            yield Reject(location, f"the server gave resumption token {token[:80]!r} a second "
                                   "time; stopping here rather than loop")
            return
        tokens_seen.add(token)
        if token:
            yield Checkpoint(key, json.dumps(
                {"token": token, "from": harvest_from, "next_from": next_from}))
        else:
            yield Checkpoint(key, json.dumps({"token": None, "from": next_from}))
            return
