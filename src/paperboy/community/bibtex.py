"""BibTeX and JSON export of collections."""

from __future__ import annotations

import re
import unicodedata
from typing import Iterable

from paperboy.records import Paper

_SPECIAL = {"\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "&": r"\&", "%": r"\%",
            "#": r"\#", "_": r"\_", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}"}
_TEX_MATH = re.compile(r"(\$[^$]+\$)")


def _escape_text(value: str) -> str:
    """Escape BibTeX/LaTeX specials outside $...$ math (which is kept as the author wrote it)."""
    out = []
    for part in _TEX_MATH.split(" ".join(value.split())):
        if part.startswith("$") and part.endswith("$") and len(part) > 1:
            # balanced braces only, so a hostile title cannot close the field
            out.append(part if _balanced(part) else "".join(_SPECIAL.get(c, c) for c in part))
        else:
            out.append("".join(_SPECIAL.get(c, c) for c in part))
    return "".join(out)


def _balanced(text: str) -> bool:
    depth = 0
    for c in text:
        depth += c == "{"
        depth -= c == "}"
        if depth < 0:
            return False
    return depth == 0


def _ascii_word(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^A-Za-z0-9]", "", folded)


def cite_key(paper: Paper) -> str:
    last = _ascii_word(paper.authors[0].split()[-1]) if paper.authors else "anon"
    year = paper.published.year if paper.published else ""
    words = [w for w in (_ascii_word(w) for w in paper.title.split()) if len(w) > 3]
    first = words[0].lower() if words else ""
    return f"{last.lower() or 'anon'}{year}{first}" or re.sub(r"\W", "", paper.id)


def bibtex_entry(paper: Paper, key: str | None = None) -> str:
    fields: list[tuple[str, str]] = [
        ("title", "{" + _escape_text(paper.title) + "}"),
        ("author", " and ".join(_escape_text(a) for a in paper.authors) or "Anonymous"),
    ]
    if paper.published:
        fields.append(("year", str(paper.published.year)))
        fields.append(("month", paper.published.strftime("%b").lower()))
    is_arxiv = ":" not in paper.id
    if is_arxiv:
        fields += [("eprint", paper.id), ("archivePrefix", "arXiv")]
        if paper.primary_category:
            fields.append(("primaryClass", _escape_text(paper.primary_category)))
    if paper.journal_ref:
        fields.append(("journal", _escape_text(paper.journal_ref)))
    if paper.doi:
        fields.append(("doi", _escape_text(paper.doi)))
    url = paper.abs_url or (f"https://arxiv.org/abs/{paper.id}" if is_arxiv else None)
    if url:
        fields.append(("url", url.replace("{", "%7B").replace("}", "%7D")))
    kind = "article" if paper.journal_ref else "misc"
    body = ",\n".join(f"  {name} = {{{value}}}" for name, value in fields)
    return f"@{kind}{{{key or cite_key(paper)},\n{body}\n}}\n"


def bibtex(papers: Iterable[Paper]) -> str:
    seen: dict[str, int] = {}
    entries = []
    for paper in papers:
        key = cite_key(paper)
        n = seen.get(key, 0)
        seen[key] = n + 1
        entries.append(bibtex_entry(paper, key if n == 0 else f"{key}{chr(ord('a') + n - 1)}"))
    return "\n".join(entries)
