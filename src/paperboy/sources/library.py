"""A reader's own library, to start their "For you" feed from: BibTeX (Zotero, Mendeley and
Google Scholar all export it), RIS, or a plain list of arXiv ids / URLs / DOIs.

:func:`parse_library` turns a file's bytes into :class:`LibraryEntry` records (what identifies
each paper: arXiv id, DOI, title) and one :class:`LibraryProblem` line per entry it cannot read
(line number and why); good entries always come through. BibTeX is read by ``bibtexparser``
(its failed blocks carry their line), RIS by ``rispy`` one record at a time (so a problem names
its record's line; unknown tags are ignored), plain lists line by line. Files that are too big,
binary or empty are refused as a whole with one :class:`LibraryError`.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from dataclasses import dataclass, field

from paperboy.errors import PaperboyError
from paperboy.ids import parse_arxiv_id

#: biggest library file accepted (a 10,000-entry Zotero export is about 5 MB)
MAX_LIBRARY_BYTES = 8 * 1024 * 1024
#: most entries read from one file
MAX_ENTRIES = 20_000

FORMATS = ("bibtex", "ris", "list")

_DOI = re.compile(r"\b(10\.\d{4,9}/[^\s\"<>{}]+)", re.I)
_ARXIV_DOI = re.compile(r"^10\.48550/arxiv\.(.+)$", re.I)
_ARXIV_IN_TEXT = re.compile(
    r"(?:arxiv[:\s]*|arxiv\.org/(?:abs|pdf)/)(\d{4}\.\d{4,5}(?:v\d+)?|[a-z\-]+(?:\.[A-Z]{2})?/\d{7})",
    re.I)
_LATEX_ACCENT = re.compile(r"\\[^a-zA-Z\s]")
_LATEX_CMD = re.compile(r"\\[a-zA-Z]+\*?")
_RIS_TAG = re.compile(r"^([A-Z][A-Z0-9])  -(?: (.*))?$")


class LibraryError(PaperboyError):
    """The file cannot be read at all (too big, binary, empty, unknown format)."""


@dataclass(frozen=True)
class LibraryEntry:
    label: str               # how the file names it: a BibTeX key, a RIS title, the line
    line: int                # 1-based line where the entry starts
    arxiv_id: str | None = None
    doi: str | None = None
    title: str | None = None

    @property
    def title_key(self) -> str | None:
        return normalize_title(self.title) if self.title else None


@dataclass(frozen=True)
class LibraryProblem:
    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


@dataclass
class ParsedLibrary:
    format: str
    entries: list[LibraryEntry] = field(default_factory=list)
    problems: list[LibraryProblem] = field(default_factory=list)


def normalize_title(title: str) -> str:
    """Lower-case words only: braces, TeX commands, accents and punctuation off, so the same
    title from arXiv and from a BibTeX export compare equal."""
    text = _LATEX_CMD.sub(" ", _LATEX_ACCENT.sub("", title)).replace("{", "").replace("}", "")
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c))
    return " ".join(re.findall(r"\w+", text.casefold()))[:500]


def _arxiv_from(*values: str | None) -> str | None:
    for value in values:
        if not value:
            continue
        value = value.strip()
        parsed = parse_arxiv_id(value)
        if parsed:
            return parsed[0]
        m = _ARXIV_DOI.match(value)
        if m and parse_arxiv_id(m.group(1)):
            return parse_arxiv_id(m.group(1))[0]
        m = _ARXIV_IN_TEXT.search(value)
        if m and parse_arxiv_id(m.group(1)):
            return parse_arxiv_id(m.group(1))[0]
    return None


def _doi_from(value: str | None) -> str | None:
    if not value:
        return None
    m = _DOI.search(value)
    return m.group(1).rstrip(".,;").lower() if m else None


def _clean(value: str | None, limit: int = 1000) -> str | None:
    if value is None:
        return None
    value = " ".join(str(value).replace("\x00", "").split())[:limit]
    return value or None


def decode(data: bytes, name: str = "library") -> str:
    """The file as text, or LibraryError for one that is empty, too big or not text."""
    if len(data) > MAX_LIBRARY_BYTES:
        raise LibraryError(f"{name}: {len(data):,} bytes is more than the "
                           f"{MAX_LIBRARY_BYTES // (1024 * 1024)} MB a library file may have; "
                           "export fewer entries or split the file")
    if not data.strip():
        raise LibraryError(f"{name}: the file is empty; export your library as BibTeX, RIS or "
                           "a list of arXiv ids")
    if b"\x00" in data[:65536]:
        raise LibraryError(f"{name}: this is a binary file, not BibTeX, RIS or a list of ids")
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:  # pragma: no cover - cp1252 decodes nearly everything
        raise LibraryError(f"{name}: not a text file")
    controls = sum(1 for c in text[:65536] if ord(c) < 32 and c not in "\t\r\n\f")
    if controls > 8:
        raise LibraryError(f"{name}: this is a binary file, not BibTeX, RIS or a list of ids")
    return text


def detect_format(text: str, name: str = "") -> str:
    lower = name.lower()
    if lower.endswith((".bib", ".bibtex")):
        return "bibtex"
    if lower.endswith(".ris"):
        return "ris"
    head = text.lstrip()[:4096]
    if re.search(r"^TY  -", head, re.M):
        return "ris"
    if re.search(r"^\s*@\w+\s*[{(]", head, re.M):
        return "bibtex"
    return "list"


def parse_library(data: bytes, name: str = "library", fmt: str | None = None) -> ParsedLibrary:
    """Entries and per-entry problems of a library file (see the module docstring)."""
    text = decode(data, name)
    fmt = fmt or detect_format(text, name)
    if fmt not in FORMATS:
        raise LibraryError(f"{name}: format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    parsed = {"bibtex": _parse_bibtex, "ris": _parse_ris, "list": _parse_list}[fmt](text)
    if len(parsed.entries) > MAX_ENTRIES:
        parsed.problems.append(LibraryProblem(
            parsed.entries[MAX_ENTRIES].line,
            f"only the first {MAX_ENTRIES:,} entries are read; the rest were left out"))
        del parsed.entries[MAX_ENTRIES:]
    return parsed


def _entry_or_problem(out: ParsedLibrary, entry: LibraryEntry) -> None:
    if entry.arxiv_id or entry.doi or (entry.title_key and len(entry.title_key) >= 8):
        out.entries.append(entry)
    else:
        out.problems.append(LibraryProblem(
            entry.line, f"{entry.label[:80]!r} has no arXiv id, DOI or title to match"))


def _parse_bibtex(text: str) -> ParsedLibrary:
    import bibtexparser

    out = ParsedLibrary("bibtex")
    logger = logging.getLogger("bibtexparser")
    level = logger.level
    logger.setLevel(logging.CRITICAL)  # its warnings repeat the failed blocks we report
    try:
        lib = bibtexparser.parse_string(text)
    finally:
        logger.setLevel(level)
    for block in lib.failed_blocks:
        raw = " ".join(block.raw.split())[:60]
        reason = "duplicate key" if "Duplicate" in type(block).__name__ else "broken entry"
        out.problems.append(LibraryProblem(block.start_line + 1, f"{reason}: {raw!r}"))
    for e in lib.entries:
        f = {k.lower(): _clean(v.value if hasattr(v, "value") else v) for k, v in e.fields_dict.items()}
        prefix = (f.get("archiveprefix") or f.get("eprinttype") or "").lower()
        arxiv = _arxiv_from(f.get("eprint") if prefix == "arxiv" or not prefix else None,
                            f.get("arxivid"), f.get("doi"), f.get("url"), f.get("journal"),
                            f.get("note"), f.get("howpublished"))
        doi = _doi_from(f.get("doi"))
        _entry_or_problem(out, LibraryEntry(label=_clean(e.key, 200) or "(no key)",
                                            line=e.start_line + 1, arxiv_id=arxiv,
                                            doi=doi if not (doi and _ARXIV_DOI.match(doi)) else None,
                                            title=f.get("title")))
    return out


def _parse_ris(text: str) -> ParsedLibrary:
    """Records run from ``TY  -`` to ``ER  -``; each is handed to rispy alone, so a bad record
    costs only itself and its problem names its line."""
    import rispy

    out = ParsedLibrary("ris")
    record: list[str] = []
    start = 0
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.rstrip("\r")
        if not line.strip():
            continue
        tag = _RIS_TAG.match(line)
        if tag and tag.group(1) == "TY":
            if record:
                out.problems.append(LibraryProblem(start, "record without its closing 'ER  -'"))
            record, start = [line], number
            continue
        if not record:
            out.problems.append(LibraryProblem(number, f"text outside a record: {line[:60]!r}"))
            continue
        record.append(line)
        if tag and tag.group(1) == "ER":
            _ris_record(out, rispy, record, start)
            record = []
    if record:
        out.problems.append(LibraryProblem(start, "record without its closing 'ER  -'"))
    return out


def _ris_record(out: ParsedLibrary, rispy, lines: list[str], start: int) -> None:
    try:
        [rec] = rispy.loads("\n".join(lines) + "\n")
    except Exception as exc:  # rispy raises plain exceptions on malformed input
        out.problems.append(LibraryProblem(start, f"unreadable record: {str(exc)[:80]}"))
        return
    title = _clean(rec.get("title") or rec.get("primary_title") or rec.get("secondary_title"))
    urls = rec.get("urls") or []
    url = rec.get("url")
    candidates = [rec.get("doi"), *(urls if isinstance(urls, list) else [urls]), url,
                  *(rec.get("notes") or []), rec.get("journal_name")]
    arxiv = _arxiv_from(*[_clean(c) for c in candidates if isinstance(c, str)])
    doi = _doi_from(rec.get("doi"))
    _entry_or_problem(out, LibraryEntry(label=(title or f"record at line {start}")[:200],
                                        line=start, arxiv_id=arxiv,
                                        doi=doi if not (doi and _ARXIV_DOI.match(doi)) else None,
                                        title=title))


def _parse_list(text: str) -> ParsedLibrary:
    out = ParsedLibrary("list")
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        arxiv = _arxiv_from(line)
        doi = None if arxiv else _doi_from(line)
        if arxiv or doi:
            out.entries.append(LibraryEntry(label=line[:200], line=number, arxiv_id=arxiv, doi=doi))
        else:
            out.problems.append(LibraryProblem(number, f"not an arXiv id, arXiv URL or DOI: {line[:60]!r}"))
    return out
