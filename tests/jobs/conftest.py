"""The jobs run against the web tests' seeded store."""

from tests.web.conftest import web_settings, web_store  # noqa: F401
