"""Scheduled work shared by ``paperboy serve`` and ``paperboy worker``."""
