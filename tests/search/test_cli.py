"""The search commands end to end through click, on a real SQLite data directory."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from paperboy.cli.main import cli
from paperboy.settings import load_settings
from paperboy.storage import open_store
from tests.search.conftest import CORPUS, corpus_papers


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    """One embedded data directory for the module (embedding once keeps the suite fast)."""
    path = tmp_path_factory.mktemp("cli") / "data"
    with open_store(load_settings({"data_dir": path}, environ={})) as store:
        store.papers.upsert(corpus_papers(), source="arxiv")
    result = CliRunner().invoke(cli, ["--data-dir", str(path), "-q", "index", "sync"])
    assert result.exit_code == 0 and f"{len(CORPUS)} papers indexed" in result.output
    result = CliRunner().invoke(cli, ["--data-dir", str(path), "-q", "embed"])
    assert result.exit_code == 0, result.output
    assert f"embedded {len(CORPUS)} papers" in result.output
    return path


def run(data_dir, *args):
    return CliRunner().invoke(cli, ["--data-dir", str(data_dir), "-q", *args])


def test_search_json(data_dir):
    result = run(data_dir, "search", "--json", "-n", "3", "which attention heads fetch facts from a long prompt")
    assert result.exit_code == 0, result.output
    hits = json.loads(result.stdout)
    assert [h["id"] for h in hits][0] == "2404.15574"
    assert {"id", "title", "score", "explanation"} <= set(hits[0])
    assert len(hits) == 3


def test_search_text_and_filters(data_dir):
    result = run(data_dir, "search", "--category", "cs.CV", "--since", "2015-01-01", "networks")
    assert result.exit_code == 0
    assert "1512.03385" in result.stdout and "1409.4842" not in result.stdout
    result = run(data_dir, "search", "--mode", "lexical", "--author", "Kingma", "variational")
    assert "Auto-Encoding Variational Bayes" in result.stdout


def test_nothing_found_is_one_line_and_success(data_dir):
    for mode in ("hybrid", "lexical", "dense"):
        result = run(data_dir, "search", "--mode", mode, "zzzqqqxx")
        assert result.exit_code == 0, result.output
        assert result.stdout == "no papers match\n"
        as_json = run(data_dir, "search", "--json", "--mode", mode, "zzzqqqxx")
        assert as_json.exit_code == 0 and json.loads(as_json.stdout) == []
    found = run(data_dir, "search", "retrieval heads")
    assert "papers match the words" in found.stderr or "paper matches the words" in found.stderr


def test_embed_is_resumable_and_idempotent(data_dir):
    result = run(data_dir, "embed")
    assert result.exit_code == 0 and "embedded 0 papers" in result.output


def test_similar_and_unknown_paper(data_dir):
    result = run(data_dir, "similar", "--json", "1512.03385")
    assert result.exit_code == 0
    hits = json.loads(result.stdout)
    assert hits[0]["id"] == "1409.4842" and "1512.03385" not in [h["id"] for h in hits]
    missing = run(data_dir, "similar", "2999.99999")
    assert missing.exit_code == 1
    assert missing.output.strip() == "error: no paper 2999.99999 in the store"


def test_index_rebuild(data_dir):
    result = run(data_dir, "index", "rebuild")
    assert result.exit_code == 0
    assert (f"keyword index: {len(CORPUS)} papers; vectors (all-MiniLM-L6-v2+int8v2): {len(CORPUS)}"
            in result.output)


def test_index_rebuild_while_another_process_writes_is_one_line(data_dir):
    from paperboy.search.keywords import KeywordIndex

    holder = KeywordIndex(data_dir / "index").writer()  # as an import in another process would
    try:
        result = run(data_dir, "index", "rebuild")
    finally:
        holder.close()
    assert result.exit_code == 2
    assert result.output.startswith("error: the keyword index is being written by another process")
    assert result.output.count("\n") == 1
    assert run(data_dir, "index", "rebuild").exit_code == 0


@pytest.mark.parametrize("args,code,needle", [
    (["search", ""], 0, "empty query"),
    (["search", "the", "of", "--mode", "lexical"], 0, "common words"),
    (["search", "since:nope", "x"], 2, "error: query: since:nope is not a date"),
    (["search", "--since", "2024-02-31", "x"], 2, "--since '2024-02-31' is not a date"),
    (["search", "--mode", "fuzzy", "x"], 2, "Invalid value for '--mode'"),
    (["search", '"unbalanced NEAR * \'; DROP TABLE papers; --'], 0, "unbalanced quote"),
    (["search", "x" * 10_000], 0, "shortened"),
])
def test_bad_input_is_one_line(data_dir, args, code, needle):
    result = run(data_dir, *args)
    assert result.exit_code == code, result.output
    assert needle in result.output
    assert "Traceback" not in result.output


def test_model_change_is_explained(data_dir, monkeypatch):
    monkeypatch.setenv("PAPERBOY_EMBEDDING_MODEL", str(data_dir / "no-such-model"))
    result = CliRunner().invoke(cli, ["--data-dir", str(data_dir), "search", "attention"])
    assert result.exit_code == 0
    assert "embeddings were made with all-MiniLM-L6-v2+int8v2 (8)" in result.output
    assert "run `paperboy embed` to re-embed" in result.output
    result = CliRunner().invoke(cli, ["--data-dir", str(data_dir), "embed"])
    assert result.exit_code == 2 and "error: embedding model folder" in result.output


def test_a_precision_change_re_embeds_and_never_mixes_vectors(data_dir, tmp_path, monkeypatch):
    """int8 (the default here) -> fp32: the search says the vectors are another path's, `embed`
    replaces them, and the store then holds the fp32 model id's vectors only."""
    import shutil

    copy = tmp_path / "data"
    shutil.copytree(data_dir, copy)
    monkeypatch.setenv("PAPERBOY_EMBEDDING_PRECISION", "fp32")
    result = CliRunner().invoke(cli, ["--data-dir", str(copy), "search", "attention"])
    assert "embeddings were made with all-MiniLM-L6-v2+int8v2 (8), but the model is now " \
           "all-MiniLM-L6-v2: run `paperboy embed` to re-embed" in result.output
    result = CliRunner().invoke(cli, ["--data-dir", str(copy), "embed"])
    assert result.exit_code == 0, result.output
    assert "model changed: vectors of all-MiniLM-L6-v2+int8v2 (8 vectors) are replaced by " \
           "all-MiniLM-L6-v2" in result.output
    with open_store(load_settings({"data_dir": copy}, environ={})) as store:
        assert store.search.embedding_models() == {"all-MiniLM-L6-v2": len(CORPUS)}
