"""Library files: BibTeX (Zotero, Google Scholar), RIS with unknown tags, plain id lists, and
the bad input the issue names (broken entries, empty, huge, binary)."""

from __future__ import annotations

import pytest

from paperboy.sources.library import (
    MAX_LIBRARY_BYTES,
    LibraryError,
    normalize_title,
    parse_library,
)
from tests.replay import fixture_bytes


def test_zotero_bibtex_entries_and_the_broken_one_by_line():
    parsed = parse_library(fixture_bytes("library/zotero.bib"), "zotero.bib")
    assert parsed.format == "bibtex"
    by_label = {e.label: e for e in parsed.entries}
    # arXiv id from the arXiv DOI / URL / note, or from eprint + archivePrefix
    assert by_label["vaswani_attention_2017"].arxiv_id == "1706.03762"
    assert by_label["vaswani_attention_2017"].doi is None  # the arXiv DOI is the arXiv id
    assert by_label["cao_compassjudger_2024"].arxiv_id == "2410.16256"
    assert by_label["lovelace_notes_1843"].doi == "10.5555/analytical.engine"
    assert by_label["lovelace_notes_1843"].title_key == "sketch of the analytical engine"
    lines = [p.line for p in parsed.problems]
    text = " | ".join(str(p) for p in parsed.problems)
    assert "broken entry" in text and 27 in lines, text       # the entry that lost its brace
    assert "no_identifiers" in text                             # nothing to match it by


def test_google_scholar_bibtex_names_arxiv_in_the_journal():
    [entry] = parse_library(fixture_bytes("library/scholar.bib"), "scholar.bib").entries
    assert entry.arxiv_id == "1609.02907"


def test_ris_with_unknown_tags_and_bad_records():
    parsed = parse_library(fixture_bytes("library/zotero.ris"), "zotero.ris")
    assert parsed.format == "ris"
    assert [e.arxiv_id for e in parsed.entries] == ["1706.03762", None]
    assert parsed.entries[1].doi == "10.5555/analytical.engine"
    problems = [str(p) for p in parsed.problems]
    assert any(p.startswith("line 21:") and "no arXiv id, DOI or title" in p for p in problems)
    assert any(p.startswith("line 26:") and "closing 'ER" in p for p in problems)
    assert len(problems) == 2  # the unknown tags (ZZ, X9) are no problem


def test_plain_list_of_ids_and_urls():
    parsed = parse_library(fixture_bytes("library/ids.txt"), "ids.txt")
    assert [e.arxiv_id for e in parsed.entries] == ["2410.16256", "1706.03762", "1609.02907",
                                                    "9999.99999"]
    [problem] = parsed.problems
    assert problem.line == 5 and "not an arXiv id" in problem.message


@pytest.mark.parametrize("data, message", [
    (b"", "empty"),
    (b"  \n\n", "empty"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" * 10, "binary"),
    (bytes(range(1, 32)) * 50, "binary"),
])
def test_whole_file_refusals(data, message):
    with pytest.raises(LibraryError, match=message):
        parse_library(data, "upload.bib")


def test_a_50_mb_file_is_refused_by_size():
    big = b"@misc{x, title={y}}\n" * (50 * 1024 * 1024 // 20)
    assert len(big) > MAX_LIBRARY_BYTES
    with pytest.raises(LibraryError, match="MB"):
        parse_library(big, "huge.bib")


def test_hostile_markup_in_titles_is_kept_as_text():
    data = b'@misc{x, title={<script>alert(1)</script> Robust {T}raining}, eprint={2410.16256}}'
    [entry] = parse_library(data, "x.bib").entries
    assert "<script>" in entry.title  # stored as text; pages escape it
    assert normalize_title(entry.title) == "script alert 1 script robust training"


def test_titles_compare_without_braces_tex_and_accents():
    assert normalize_title("{CompassJudger}-1: {All}-in-one") == normalize_title("CompassJudger-1: All-in-one")
    assert normalize_title("Caf\\'e of M\u00fcller") == normalize_title("Cafe of Muller")
