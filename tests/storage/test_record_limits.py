"""The record limits sources check (paperboy.sources.validate) fit the storage columns."""

from __future__ import annotations

from paperboy.sources.validate import LIMITS
from paperboy.storage import schema


def test_limits_fit_the_columns():
    """Each limit is at most its column's length, so no value that passes can be refused."""
    def length(table, column):
        return table.c[column].type.length

    p = schema.papers
    assert LIMITS.id <= length(p, "id") and LIMITS.category <= length(p, "primary_category")
    assert LIMITS.category <= length(schema.paper_categories, "category")
    for name in ("doi", "license", "organization"):
        assert getattr(LIMITS, name) <= length(p, name)
    for name in ("abs_url", "pdf_url", "code_url", "project_url", "thumbnail_url"):
        assert LIMITS.url <= length(p, name)
    listings = schema.daily_listings
    assert LIMITS.submitter <= length(listings, "submitter")
    assert LIMITS.submitter <= length(listings, "submitter_fullname")
    assert LIMITS.organization <= length(listings, "organization")
    assert LIMITS.announce_type <= length(listings, "announce_type")
    assert LIMITS.listing_source <= length(listings, "source")
    assert LIMITS.listing_source <= length(schema.paper_sources, "source")
