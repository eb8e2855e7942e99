"""The int8 rows behind filtered vector search: close to float32, sorted, upserted, saved."""

from __future__ import annotations

import numpy as np
import pytest

from paperboy.search.int8rows import Int8Rows, quantize


@pytest.fixture
def unit():
    rng = np.random.default_rng(3)
    v = rng.normal(size=(500, 384)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def test_quantized_rows_keep_the_direction(unit):
    codes, inv = quantize(unit)
    assert codes.dtype == np.int8 and np.abs(codes).max() == 127
    back = codes.astype(np.float32) * inv[:, None]
    assert np.allclose(np.linalg.norm(back, axis=1), 1.0, atol=1e-5)
    assert (back * unit).sum(axis=1).min() > 0.999
    zero_codes, zero_inv = quantize(np.zeros((1, 384), dtype=np.float32))
    assert not zero_codes.any() and np.isfinite(zero_inv).all()


def test_scores_are_cosines(unit):
    rows = Int8Rows(384)
    rows.upsert(np.arange(500) * 3, unit)
    pos = rows.positions(np.array([0, 3, 4, 1497, 10_000]))
    assert rows.ids[pos].tolist() == [0, 3, 1497]  # 4 and 10000 have no row
    got = rows.scores(pos, unit[1])
    want = unit[[0, 1, 499]] @ unit[1]
    assert np.allclose(got, want, atol=0.01) and got[1] == pytest.approx(1.0, abs=1e-3)


def test_upsert_keeps_ids_sorted_and_the_newest_row(unit):
    rows = Int8Rows(384)
    rows.upsert(np.array([10, 20, 30]), unit[:3])
    rows.upsert(np.array([40, 50]), unit[3:5])                      # appended
    rows.upsert(np.array([25, 5, 20]), unit[5:8])                   # inserted + overwritten
    rows.upsert(np.array([60, 60]), unit[8:10])                     # the later of a batch wins
    assert rows.ids.tolist() == [5, 10, 20, 25, 30, 40, 50, 60]
    by_id = dict(zip(rows.ids.tolist(), rows.rows(np.arange(len(rows)))))
    for doc_id, src in {5: 6, 10: 0, 20: 7, 25: 5, 40: 3, 60: 9}.items():
        assert float(by_id[doc_id] @ unit[src]) > 0.999, doc_id


def test_saved_and_loaded(unit, tmp_path):
    rows = Int8Rows(384)
    rows.upsert(np.arange(100), unit[:100])
    rows.last_seq = 77
    path = tmp_path / "r.npz"
    rows.save(path)
    assert not list(tmp_path.glob(".*"))
    back = Int8Rows.load(path, 384)
    assert back.last_seq == 77 and np.array_equal(back.ids, rows.ids)
    assert np.array_equal(back.codes, rows.codes) and np.array_equal(back.inv, rows.inv)
    assert Int8Rows.load(path, 32) is None                          # another dimension
    (tmp_path / "bad.npz").write_bytes(b"not a zip")
    assert Int8Rows.load(tmp_path / "bad.npz", 384) is None
    assert Int8Rows.load(tmp_path / "missing.npz", 384) is None
