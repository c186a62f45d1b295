"""One typed settings object, read once from the environment.

Every variable of DESIGN.md §7 lives here with a default that runs the embedded demo.
A malformed value stops the process at start with one line naming the variable, because a
sales team would rather see "EMAIL_PROVIDER must be one of …" than a stack trace later, in
the middle of a send.
"""

from __future__ import annotations

import functools
import re
import typing
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import AnyHttpUrl, Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent

DEV_SECRET_KEY = "dev-only-secret-key-change-me"  # noqa: S105 - the labelled demo default


class SettingsError(SystemExit):
    """Raised (as a clean exit) when the environment holds a value we cannot use."""


class Settings(BaseSettings):
    """The environment of every process: console, api, worker, cron and CLI."""

    model_config = SettingsConfigDict(env_file=None, extra="ignore", case_sensitive=False)

    database_url: str | None = Field(
        default=None, description="PostgreSQL URL; unset starts an embedded server under DATA_DIR."
    )
    redis_url: str | None = Field(default=None, description="Redis URL; unset starts an embedded Redis under DATA_DIR.")
    data_dir: Path = Field(default=PROJECT_ROOT / ".data", description="Where the embedded servers keep their data.")
    public_base_url: AnyHttpUrl = Field(
        default=AnyHttpUrl("http://localhost:8000"),
        description="The api process as the outside world reaches it (webhook and unsubscribe links).",
    )
    secret_key: SecretStr = Field(
        default=SecretStr(DEV_SECRET_KEY), description="Signs unsubscribe tokens and sessions."
    )
    anthropic_api_key: SecretStr | None = Field(
        default=None, description="Claude key; unset uses the offline writer and classifier."
    )
    anthropic_base_url: AnyHttpUrl | None = Field(
        default=None, description="Anthropic API host (the SDK's own variable), for tests and proxies."
    )
    anthropic_model: str = Field(default="claude-sonnet-5-5", description="Model for the writer and the lead insight.")
    anthropic_batch_writes: bool = Field(
        default=True, description="Draft sends scheduled 1 h or more ahead through Message Batches (half price)."
    )
    sendgrid_api_key: SecretStr | None = Field(default=None, description="SendGrid key for EMAIL_PROVIDER=sendgrid.")
    sendgrid_api_host: AnyHttpUrl = Field(
        default=AnyHttpUrl("https://api.sendgrid.com"), description="SendGrid API host."
    )
    sendgrid_webhook_public_key: str | None = Field(
        default=None, description="SendGrid signed event webhook public key (base64 ECDSA)."
    )
    sendgrid_inbound_secret: SecretStr | None = Field(
        default=None,
        description="The path secret of SendGrid Inbound Parse (`/webhooks/sendgrid/inbound/<secret>`); "
        "generated under DATA_DIR while email is sandboxed.",
    )
    reply_domain: str | None = Field(
        default=None, description="The Inbound Parse domain of per-message Reply-To addresses (`reply+…@`)."
    )
    twilio_account_sid: str | None = Field(default=None, description="Twilio account SID for SMS_PROVIDER=twilio.")
    twilio_auth_token: SecretStr | None = Field(
        default=None, description="Twilio auth token; also verifies X-Twilio-Signature."
    )
    twilio_api_base_url: AnyHttpUrl = Field(
        default=AnyHttpUrl("https://api.twilio.com"), description="Twilio API host."
    )
    twilio_from_number: str | None = Field(default=None, description="E.164 sender number for SMS.")
    email_provider: Literal["sandbox", "sendgrid"] = Field(
        default="sandbox", description="`sandbox` records emails locally; `sendgrid` sends them."
    )
    sms_provider: Literal["sandbox", "twilio"] = Field(
        default="sandbox", description="`sandbox` records SMS locally; `twilio` sends them."
    )
    scrypt_log2_n: int = Field(
        default=17,
        ge=14,
        le=20,
        description="Password hashing cost, as log2 of scrypt's N (r=8, p=1): 17 is OWASP's advice (128 MiB, "
        "about half a second). Older hashes are upgraded at their next sign-in; the test suite runs at 14.",
    )
    demo: bool = Field(
        default=False,
        description="Run as the demo (`python -m app run --demo` sets it for its processes): seed an empty "
        "database, label every page, show the demo sign-in. Implied by the embedded default.",
    )

    @field_validator("database_url")
    @classmethod
    def _postgres_only(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        if not value.startswith(("postgresql://", "postgresql+psycopg://", "postgres://")):
            raise ValueError("must be a postgresql:// URL")
        _check_port(value)
        return value

    @field_validator("redis_url")
    @classmethod
    def _redis_only(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        if not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must be a redis://, rediss:// or unix:// URL")
        _check_port(value)
        return value

    @field_validator("data_dir", mode="before")
    @classmethod
    def _absolute_folder(cls, value: object) -> object:
        # Relative paths break the embedded Redis (it daemonizes and changes directory first).
        if isinstance(value, str | Path):
            if not str(value).strip():
                raise ValueError("must be a folder path")
            return Path(value).expanduser().resolve()
        return value

    @field_validator("secret_key")
    @classmethod
    def _not_blank(cls, value: SecretStr) -> SecretStr:
        if not value.get_secret_value().strip():
            raise ValueError("must not be empty (unset it to use the labelled development key)")
        return value

    @field_validator("twilio_from_number")
    @classmethod
    def _e164(cls, value: str | None) -> str | None:
        if value and not (value.startswith("+") and value[1:].isdigit() and 8 <= len(value) <= 16):
            raise ValueError("must be an E.164 number such as +15551234567")
        return value or None

    @model_validator(mode="after")
    def _providers_have_credentials(self) -> Settings:
        if self.email_provider == "sendgrid" and self.sendgrid_api_key is None:
            raise ValueError("EMAIL_PROVIDER=sendgrid needs SENDGRID_API_KEY")
        if self.sms_provider == "twilio" and not (
            self.twilio_account_sid and self.twilio_auth_token and self.twilio_from_number
        ):
            raise ValueError("SMS_PROVIDER=twilio needs TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_FROM_NUMBER")
        return self

    @model_validator(mode="after")
    def _real_providers_need_https(self) -> Settings:
        """Mail and texts that reach people carry unsubscribe links and name our callbacks: RFC 8058
        one-click (which Gmail and Yahoo require of bulk senders) works only over https."""
        real = [
            *(["EMAIL_PROVIDER=sendgrid"] if self.email_provider == "sendgrid" else []),
            *(["SMS_PROVIDER=twilio"] if self.sms_provider == "twilio" else []),
        ]
        if real and self.public_base_url.scheme != "https":
            raise ValueError(
                f"PUBLIC_BASE_URL must be an https:// URL with {' and '.join(real)} "
                f"(RFC 8058 one-click unsubscribe links), got {str(self.public_base_url)[:60]!r}"
            )
        return self

    @model_validator(mode="after")
    def _demo_sends_nothing(self) -> Settings:
        """The demo's addresses and numbers are made up but well formed: a real provider would
        write to them (20,000 texts to strangers on a first start)."""
        sending = self.sending_providers
        if self.demo and sending:
            raise ValueError(
                f"DEMO (python -m app run --demo) seeds made-up addresses and numbers; "
                f"it cannot run with {' and '.join(sending)}"
            )
        return self

    @property
    def sending_providers(self) -> list[str]:
        """The selected providers that reach real people."""
        return [
            *(["EMAIL_PROVIDER=sendgrid"] if self.email_provider == "sendgrid" else []),
            *(["SMS_PROVIDER=twilio"] if self.sms_provider == "twilio" else []),
        ]

    @property
    def real_providers(self) -> list[str]:
        """Every real provider selected, by a *_PROVIDER setting or by a provider key."""
        keys = [
            *(["SENDGRID_API_KEY"] if self.sendgrid_api_key is not None and self.email_provider == "sandbox" else []),
            *(["TWILIO_AUTH_TOKEN"] if self.twilio_auth_token is not None and self.sms_provider == "sandbox" else []),
            *(["ANTHROPIC_API_KEY"] if self.anthropic_api_key is not None else []),
        ]
        return [*self.sending_providers, *keys]

    @property
    def is_demo(self) -> bool:
        """The demo: asked for, or the embedded default sending nothing (plain `make run`)."""
        return self.demo or (self.database_url is None and not self.sending_providers)

    @property
    def ai_mode(self) -> Literal["claude", "offline"]:
        return "claude" if self.anthropic_api_key is not None else "offline"

    @property
    def uses_dev_secret(self) -> bool:
        return self.secret_key.get_secret_value() == DEV_SECRET_KEY


def _check_port(url: str) -> None:
    """A port that is not a number fails here, in one line, not deep in the driver."""
    try:
        urlsplit(url).port  # noqa: B018 - read for its ValueError
    except ValueError:
        raise ValueError("has a port that is not a number") from None


URL_FIELDS = frozenset({"database_url", "redis_url"})  # they carry a password: shown redacted


def redacted_url(url: str) -> str:
    """`url` with its password (in the user part or a `password=` parameter) replaced by ***."""
    scheme, separator, rest = url.partition("://")
    if not separator:
        return "***"
    userinfo, at, host = rest.rpartition("@")
    if at and ":" in userinfo:
        rest = f"{userinfo.split(':', 1)[0]}:***@{host}"
    return f"{scheme}://" + re.sub(r"(?i)(password=)[^&;]*", r"\1***", rest)


def describe_error(error: ValidationError) -> str:
    """One line naming the variable and what is wrong with it."""
    first = error.errors()[0]
    location = first.get("loc") or ()
    message = first.get("msg", "invalid value").removeprefix("Value error, ")
    if not location:
        return f"settings: {message}"
    name = str(location[0]).upper()
    got = first.get("input")
    hidden = _is_secret(str(location[0])) or isinstance(got, dict) or got is None
    if not hidden and str(location[0]) in URL_FIELDS:
        got = redacted_url(str(got))
    shown = "" if hidden else f" (got {str(got)[:60]!r})"
    return f"settings: {name} {message}{shown}"


def _is_secret(field_name: str) -> bool:
    """A secret's rejected value is never echoed (it would land in logs)."""
    field = Settings.model_fields.get(field_name)
    if field is None:
        return False
    return SecretStr in (field.annotation, *typing.get_args(field.annotation))


MIN_SECRET_CHARS = 32
MIN_SECRET_DISTINCT = 10  # a hex key of 32 characters has about 14 distinct; "aaaa…" or "changeme…" far fewer


def production_refusal(settings: Settings) -> str | None:
    """Why this environment must not start with a real provider, in one line, or None.

    With a real provider the secret signs links that reach real people (unsubscribe, reply-to):
    the public development key, or a short or repetitive one, would let anyone forge them. And
    those links, with the webhooks the providers call, must travel over https.
    """
    real = settings.real_providers
    if not real:
        return None
    named = " and ".join(real)
    secret = settings.secret_key.get_secret_value()
    generate = "python -c 'import secrets; print(secrets.token_urlsafe(32))'"
    if settings.uses_dev_secret:
        return f"settings: SECRET_KEY is the public development key; {named} needs a random one ({generate})"
    if len(secret) < MIN_SECRET_CHARS or len(set(secret)) < MIN_SECRET_DISTINCT:
        return (
            f"settings: SECRET_KEY must be at least {MIN_SECRET_CHARS} random characters with {named} "
            f"(got {len(secret)} characters, {len(set(secret))} distinct; {generate})"
        )
    if settings.public_base_url.scheme != "https":
        got = str(settings.public_base_url)[:60]
        return f"settings: PUBLIC_BASE_URL must be an https:// URL with {named}, got {got!r}"
    return None


def load_settings(**overrides: object) -> Settings:
    """Read the environment, or stop the process with one clear line."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as error:
        raise SettingsError(describe_error(error)) from None


def production_settings(**overrides: object) -> Settings:
    """Settings a process may start with: readable, and safe for the providers they select.

    Tests that point a provider's real SDK at a local fake build theirs with `load_settings`.
    """
    settings = load_settings(**overrides)
    refusal = production_refusal(settings)
    if refusal is not None:
        raise SettingsError(refusal)
    return settings


@functools.cache
def get_settings() -> Settings:
    """The settings of this process, read once; an unsafe production setup stops it (one line)."""
    return production_settings()
