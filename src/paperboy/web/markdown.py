"""A paper as Markdown (``/papers/{id}.md``, what ``HfApi.read_paper`` returns)."""

from __future__ import annotations

from paperboy.storage.feeds import FeedItem


def _md_escape_line(text: str) -> str:
    return " ".join(text.split()).replace("[", "\\[").replace("]", "\\]")


def paper_markdown(item: FeedItem) -> str:
    p = item.paper
    lines = [f"# {_md_escape_line(p.title)}", ""]
    lines.append(f"arXiv: {p.id}" if "/" in p.id or p.id[:1].isdigit() else f"id: {p.id}")
    if p.authors:
        lines.append(f"Authors: {', '.join(_md_escape_line(a) for a in p.authors)}")
    if p.published_approx:
        lines.append(f"Published: {p.published:%Y-%m} (approximate: the month in the arXiv id)")
    elif p.published:
        lines.append(f"Published: {p.published:%Y-%m-%d}")
    if item.day:
        lines.append(f"Listed: {item.day:%Y-%m-%d}")
    if p.categories:
        lines.append(f"Categories: {', '.join(p.categories)}")
    if item.organization:
        lines.append(f"Organization: {_md_escape_line(item.organization)}")
    lines.append(f"Upvotes: {item.upvotes}")
    links = []
    if p.abs_url:
        links.append(f"[abs]({p.abs_url})")
    if p.pdf_url:
        links.append(f"[PDF]({p.pdf_url})")
    if p.code_url:
        links.append(f"[code]({p.code_url})")
    if p.project_url:
        links.append(f"[project page]({p.project_url})")
    if links:
        lines.append("Links: " + " · ".join(links))
    lines += ["", "## Abstract", "", " ".join((p.abstract or "").split())]
    if p.ai_summary:
        lines += ["", "## Summary", "", " ".join(p.ai_summary.split())]
    return "\n".join(lines) + "\n"
