"""Paperboy: a self-hostable research-paper discovery service (feeds, search, digests)."""

__version__ = "0.1.0"
