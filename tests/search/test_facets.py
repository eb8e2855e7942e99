"""The in-memory filter columns: masks, and the cache of recent filters' masks."""

from __future__ import annotations

from datetime import date, datetime

import numpy as np
import pytest

from paperboy.search.facets import FacetColumns
from tests.builders import make_paper


@pytest.fixture
def columns(store):
    store.papers.upsert([
        make_paper(id="2101.00001", categories=["cs.CL"], published=datetime(2021, 1, 5)),
        make_paper(id="2201.00002", categories=["cs.LG", "stat.ML"], published=datetime(2022, 1, 5)),
        make_paper(id="2301.00003", categories=["math.AG"], published=datetime(2023, 1, 5)),
    ], source="arxiv")
    cols = FacetColumns(store.search)
    cols.refresh()
    return cols


def ids_of(store, mask):
    return sorted(store.search.visible_ids(mask.tolist()).values())


def test_a_repeated_filter_reuses_its_mask_read_only(store, columns):
    first = columns.mask(date(2022, 1, 1), None, ["cs", "stat.ML"])
    assert ids_of(store, first) == ["2201.00002"]
    again = columns.mask(date(2022, 1, 1), None, ["stat.ML", "cs"])  # same filter, other order
    assert again is first
    with pytest.raises(ValueError):
        first[0] = 0  # shared with later callers: must not be changed in place
    assert columns.mask(date(2021, 1, 1), None, ["cs"]) is not first


def test_a_change_drops_the_cached_masks(store, columns):
    before = columns.mask(None, None, ["math"])
    assert ids_of(store, before) == ["2301.00003"]
    store.papers.upsert([make_paper(id="2302.00004", categories=["math.NT"],
                                    published=datetime(2023, 2, 1))], source="arxiv")
    assert columns.refresh() == 1
    after = columns.mask(None, None, ["math"])
    assert ids_of(store, after) == ["2301.00003", "2302.00004"]
    assert columns.refresh() == 0  # nothing new: the cache stays
    assert columns.mask(None, None, ["math"]) is after


def test_the_cache_keeps_only_recent_filters(columns):
    masks = [columns.mask(date(2000 + i, 1, 1), None, []) for i in range(FacetColumns.CACHED_MASKS + 1)]
    assert columns.mask(date(2000, 1, 1), None, []) is not masks[0]  # the oldest was dropped
    assert columns.mask(date(2000 + FacetColumns.CACHED_MASKS, 1, 1), None, []) is masks[-1]
    assert np.array_equal(columns.mask(date(2000, 1, 1), None, []), masks[0])
