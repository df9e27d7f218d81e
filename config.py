"""Settings from ``MAILTAB_*`` environment variables, validated once at start-up.

Secrets (the Fernet keys, the Redis URL) are ``SecretStr`` so that printing the
settings never prints them. ``load_settings`` turns a validation failure into
one ``ConfigError`` line per bad variable, for the CLI to print without a
traceback.
"""

from __future__ import annotations

import ipaddress
import ssl
from collections.abc import Iterable
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

__all__ = ["ConfigError", "Settings", "load_settings"]

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
REDIS_SCHEMES = ("redis", "rediss", "redis+unix", "redis+sentinel", "redis+cluster")
DEFAULT_PASSWORD_HELP_URL = "https://product-doc.tradesoft.ru/email/index.htm"


class ConfigError(Exception):
    """The environment does not describe a usable service; the message is one line."""


def _inside_any(network: Network, refused: Iterable[Network]) -> bool:
    """Whether ``network`` lies inside one of ``refused`` (IPv4-mapped IPv6 as its IPv4)."""
    if isinstance(network, ipaddress.IPv6Network):
        mapped = network.network_address.ipv4_mapped
        if mapped is not None and network.prefixlen >= 96:
            network = ipaddress.IPv4Network((mapped, network.prefixlen - 96))
    return any(
        network.version == outer.version and network.subnet_of(outer)  # type: ignore[arg-type]
        for outer in refused
    )


def _split(value: object) -> object:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MAILTAB_", extra="ignore", frozen=True)

    data_dir: Path = Path("data")
    database_url: str = ""
    """Empty: an SQLite file ``mailtab.sqlite3`` in ``data_dir``."""
    secret_key: SecretStr | None = None
    """Comma-separated Fernet keys; the first encrypts, all decrypt."""
    providers_file: Path | None = None
    tradesoft_smtp_host: str | None = None
    password_help_url: str = DEFAULT_PASSWORD_HELP_URL

    test_email_rate_limit: str = "10/minute"
    redis_url: SecretStr | None = None
    smtp_timeout: float = Field(default=15.0, gt=0, le=300)
    smtp_ca_file: Path | None = None
    smtp_deny_networks: Annotated[list[Network], NoDecode] = []
    smtp_allow_networks: Annotated[list[Network], NoDecode] = []

    graphiql: bool = True
    introspection: bool = True
    cors_origins: Annotated[list[str], NoDecode] = []
    log_format: Literal["text", "json"] = "text"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

    max_body_bytes: int = Field(default=65_536, ge=1024)
    max_query_depth: int = Field(default=10, ge=2)
    max_aliases: int = Field(default=15, ge=1)
    max_tokens: int = Field(default=2_000, ge=100)
    # What one document may ask for (web.query_cost) and send back; see the README.
    max_query_cost: int = Field(default=50_000, ge=1)
    max_query_fields: int = Field(default=150, ge=1)
    max_response_bytes: int = Field(default=4 * 1024 * 1024, ge=1024)
    operation_timeout: float = Field(default=30.0, gt=0)
    db_timeout: float = Field(default=5.0, gt=0)
    header_timeout: float = Field(default=10.0, gt=0, le=300)
    """Seconds a connection has to send a complete request head (``web.protocol``)."""
    keep_alive_timeout: int = Field(default=5, ge=1, le=300)
    max_connections: int = Field(default=1000, ge=1)
    """Per worker: past it, new requests get 503 from uvicorn at once."""
    token_cache_seconds: float = Field(default=5.0, ge=0, le=60)
    """How long a verified token is trusted without the database (0: never; token_cache)."""

    # Notifications (notifications/): the delivery workers' queue.
    notify_retry_delays: Annotated[list[float], NoDecode] = [60, 300, 900, 3600, 10800]
    """Seconds before each retry of a temporary failure; attempts = len + 1."""
    notify_lease_seconds: float = Field(default=120.0, gt=0, le=3600)
    notify_batch_size: int = Field(default=50, ge=1, le=1000)
    notify_poll_seconds: float = Field(default=1.0, gt=0, le=60)
    notify_letters_per_connection: int = Field(default=100, ge=1, le=100_000)
    notify_in_process: bool = True
    """``mailtab serve`` on the embedded SQLite default runs one delivery worker in-process."""

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        return _split(value)

    @field_validator("smtp_deny_networks", "smtp_allow_networks", mode="before")
    @classmethod
    def _networks(cls, value: object) -> object:
        items = _split(value)
        if not isinstance(items, list):
            return items
        networks = []
        for item in items:
            try:
                networks.append(ipaddress.ip_network(item, strict=False))
            except ValueError:
                raise ValueError(f"{item!r} is not a network (e.g. 10.0.0.0/8, fd00::/8)") from None
        return networks

    @field_validator("notify_retry_delays", mode="before")
    @classmethod
    def _retry_delays(cls, value: object) -> object:
        items = _split(value)
        if isinstance(items, list):
            try:
                delays = [float(item) for item in items]
            except (TypeError, ValueError):
                raise ValueError("comma-separated seconds, e.g. 60,300,900") from None
            if not delays or any(not 0 <= delay <= 7 * 86400 for delay in delays):
                raise ValueError("one to many delays, each 0 to 604800 seconds") from None
            return delays
        return items

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        value = value.strip()
        if not value:
            return value
        scheme = urlsplit(value).scheme
        if scheme == "postgresql":
            value = "postgres" + value[len("postgresql") :]
        elif scheme not in ("sqlite", "postgres"):
            raise ValueError("must start with sqlite:// or postgres:// (postgresql:// is accepted)")
        from tortoise.backends.base.config_generator import expand_db_url

        try:
            expand_db_url(value)
        except Exception as exc:  # the URL may hold a password: name the failure, not the text
            raise ValueError(f"cannot be parsed ({exc.__class__.__name__})") from None
        return value

    @field_validator("test_email_rate_limit")
    @classmethod
    def _rate_limit(cls, value: str) -> str:
        from limits import parse_many

        try:
            items = parse_many(value)
        except ValueError:
            raise ValueError("must be in the 'limits' syntax, e.g. 10/minute") from None
        if any(item.amount < 1 for item in items):
            # "0/minute" reads as "off" but would refuse every letter: say so at start.
            raise ValueError("every limit must allow at least 1, e.g. 10/minute")
        return value

    @field_validator("smtp_allow_networks")
    @classmethod
    def _allow_only_refused(cls, value: list[Network]) -> list[Network]:
        from mail.network import DEFAULT_DENY

        for network in value:
            if not _inside_any(network, DEFAULT_DENY):
                raise ValueError(
                    f"{network} is not inside one of the networks refused by default "
                    f"({', '.join(str(n) for n in DEFAULT_DENY)}): list only what must be "
                    "reached there, e.g. 169.254.10.0/24 (other networks are allowed already)"
                )
        return value

    @field_validator("password_help_url")
    @classmethod
    def _help_url(cls, value: str) -> str:
        value = value.strip()
        parts = urlsplit(value)
        if (
            parts.scheme not in ("http", "https")
            or not parts.hostname
            or any(char.isspace() or not char.isprintable() for char in value)
        ):
            raise ValueError("must be an http:// or https:// address with a host")
        return value

    @field_validator("tradesoft_smtp_host")
    @classmethod
    def _tradesoft_host(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        from services.addresses import clean_host
        from services.errors import Problems

        problems = Problems()
        host = clean_host(value, field="smtpHost", problems=problems, required=True)
        if host is None:
            reason = problems.errors[0].message("en") if problems else "invalid"
            raise ValueError(f"not a valid SMTP host name: {reason}")
        return host

    @field_validator("smtp_ca_file", "providers_file")
    @classmethod
    def _existing_file(cls, value: Path | None) -> Path | None:
        if value is not None and not value.is_file():
            raise ValueError(f"no such file: {value}")
        return value

    @field_validator("smtp_ca_file")
    @classmethod
    def _ca_file(cls, value: Path | None) -> Path | None:
        if value is not None:
            try:
                ssl.create_default_context().load_verify_locations(cafile=str(value))
            except (ssl.SSLError, OSError, ValueError):
                raise ValueError(
                    f"{value} holds no PEM CA certificate that can be loaded"
                ) from None
        return value

    @field_validator("providers_file")
    @classmethod
    def _providers_file(cls, value: Path | None) -> Path | None:
        if value is not None:
            from mail.errors import PresetError
            from mail.presets import load_presets

            try:
                load_presets(value)
            except PresetError as exc:
                raise ValueError(str(exc)) from None
        return value

    @field_validator("redis_url")
    @classmethod
    def _redis_url(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            scheme = urlsplit(value.get_secret_value()).scheme
            if scheme not in REDIS_SCHEMES:
                # Never the URL itself: it may carry the Redis password.
                raise ValueError(
                    f"must start with one of {', '.join(s + '://' for s in REDIS_SCHEMES)}"
                )
        return value

    test_email_refusal_rate_limit: str = "60/minute"
    """Refused presses of Send per token (invalid input, over the letter limit …): past it,
    RATE_LIMITED, and nothing more is recorded until the window frees."""

    @field_validator("test_email_refusal_rate_limit")
    @classmethod
    def _refusal_rate_limit(cls, value: str) -> str:
        from limits import parse_many

        try:
            items = parse_many(value)
        except ValueError:
            raise ValueError("must be in the 'limits' syntax, e.g. 60/minute") from None
        if any(item.amount < 1 for item in items):
            raise ValueError("must allow at least one refusal per window, e.g. 60/minute")
        return value

    dns_nameservers: Annotated[list[str], NoDecode] = []
    """Name servers for provider detection (``ip`` or ``ip:port``); empty: the system's."""
    dns_timeout: float = Field(default=3.0, gt=0, le=60)
    """Seconds one provider detection may spend on DNS, all look-ups together."""

    @field_validator("dns_nameservers", mode="before")
    @classmethod
    def _dns_nameservers(cls, value: object) -> object:
        items = _split(value)
        if isinstance(items, list):
            from mail.resolver import parse_nameservers

            parse_nameservers(str(item) for item in items)  # ValueError names the bad entry
        return items

    @model_validator(mode="after")
    def _budgets(self) -> Settings:
        if self.smtp_timeout + 2 * self.db_timeout > self.operation_timeout:
            raise ValueError(
                "MAILTAB_SMTP_TIMEOUT + 2 × MAILTAB_DB_TIMEOUT must not exceed "
                "MAILTAB_OPERATION_TIMEOUT: a test letter has to finish, and be recorded, "
                "within the operation's time budget"
            )
        return self

    @field_validator("cors_origins")
    @classmethod
    def _origins(cls, value: list[str]) -> list[str]:
        for origin in value:
            if origin == "*":
                # Any page on the internet could then call the API with a token it holds.
                raise ValueError("'*' is refused: list the frontends' origins")
            parts = urlsplit(origin)
            if (
                parts.scheme not in ("http", "https")
                or not parts.hostname
                or parts.path
                or parts.query
                or parts.fragment
                or parts.username is not None
            ):
                # Browsers send the origin without a path: "https://x/" would never match.
                raise ValueError(f"not an origin: {origin!r} (expected https://host[:port])")
        return value

    @model_validator(mode="after")
    def _keys(self) -> Settings:
        if self.secret_key is not None:
            from cryptography.fernet import Fernet

            for index, key in enumerate(self.fernet_keys(), start=1):
                try:
                    Fernet(key)
                except ValueError:
                    raise ValueError(
                        f"MAILTAB_SECRET_KEY: key #{index} is not a Fernet key "
                        "(32 url-safe base64-encoded bytes)"
                    ) from None
        return self

    def fernet_keys(self) -> list[str]:
        if self.secret_key is None:
            return []
        return [k.strip() for k in self.secret_key.get_secret_value().split(",") if k.strip()]

    # OAuth2 sign-in for mailboxes (SPEC.md §6): where a browser reaches this service, and
    # the applications registered with the providers (a secret is optional: a public client
    # with PKCE). MAILTAB_OAUTH_<CODE>_CLIENT_ID / _CLIENT_SECRET, one pair per provider code.
    public_url: str = "http://127.0.0.1:8000"
    oauth_google_client_id: str | None = None
    oauth_google_client_secret: SecretStr | None = None
    oauth_outlook_client_id: str | None = None
    oauth_outlook_client_secret: SecretStr | None = None

    @field_validator("public_url")
    @classmethod
    def _public_url(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        parts = urlsplit(value)
        if (
            parts.scheme not in ("http", "https")
            or not parts.hostname
            or parts.query
            or parts.fragment
            or parts.username is not None
            or any(char.isspace() or not char.isprintable() for char in value)
        ):
            raise ValueError(
                "must be an http:// or https:// address with a host, e.g. https://erp.example.com"
            )
        return value

    @field_validator("oauth_google_client_id", "oauth_outlook_client_id")
    @classmethod
    def _client_id(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        if any(char.isspace() or not char.isprintable() for char in value.strip()):
            raise ValueError("must not contain spaces or control characters")
        return value.strip()

    def oauth_client(self, code: str) -> tuple[str, str | None] | None:
        """The client id and secret registered for provider ``code``; None when not set."""
        client_id = getattr(self, f"oauth_{code.lower()}_client_id", None)
        if not client_id:
            return None
        secret = getattr(self, f"oauth_{code.lower()}_client_secret", None)
        value = secret.get_secret_value().strip() if isinstance(secret, SecretStr) else ""
        return str(client_id), value or None

    @property
    def oauth_redirect_uri(self) -> str:
        return f"{self.public_url}/oauth/callback"

    @property
    def db_wait(self) -> float:
        """The longest a request waits on the database: connecting (``db_timeout``) plus one
        query (``2 × db_timeout``), the bounds models.db gives the driver."""
        return self.db_timeout * 3

    @property
    def embedded(self) -> bool:
        """True when the database is the SQLite file the service manages itself."""
        return not self.database_url or self.database_url.startswith("sqlite://")

    @property
    def db_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite://{(self.data_dir / 'mailtab.sqlite3').resolve()}"


def load_settings(**overrides: object) -> Settings:
    """Settings from the environment (and ``overrides``), or one ``ConfigError`` line."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        reasons = []
        for error in exc.errors(include_input=False, include_url=False):
            # The first part names the setting; the rest is pydantic's path inside it.
            name = str(error["loc"][0]) if error["loc"] else ""
            variable = f"MAILTAB_{name.upper()}" if name else "configuration"
            message = str(error["msg"]).removeprefix("Value error, ")
            reasons.append(f"{variable}: {message}" if name else message)
        raise ConfigError("; ".join(reasons)) from None
