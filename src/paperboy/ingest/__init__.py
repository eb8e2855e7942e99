"""Ingest: the pipeline that batches source records into the store, and the ingest jobs."""
