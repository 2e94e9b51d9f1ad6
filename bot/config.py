"""Settings: one typed object, read from the environment (and `.env`) once, in the CLI."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.api_tokens import ApiToken, parse_tokens
from bot.errors import BadInput
from bot.services.business_hours import BusinessHours

if TYPE_CHECKING:
    from bot.services.survey_disclosure import Rules

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./coe-bot.db"
MIN_SURVEY_SECRET = 32  # bytes
_ADMIN_ID = re.compile(r"^[UWS][A-Z0-9]{2,}$")


class ConfigError(Exception):
    """A setting is missing or malformed; the message names the variable."""


class MissingSurveySecret(BadInput):
    """An anonymous survey was to be sent or answered without SURVEY_SECRET."""


def secret_bytes(value: str) -> bytes:
    """A secret's bytes: `hex:…` is decoded (how `surveys secret --show-derived` prints a
    raw key), anything else is its UTF-8 text. Raises `ValueError` for bad hex."""
    if value.startswith("hex:"):
        return bytes.fromhex(value.removeprefix("hex:"))
    return value.encode()


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", case_sensitive=False)

    slack_bot_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    slack_api_url: str = "https://slack.com/api/"
    database_url: str = DEFAULT_DATABASE_URL
    # PostgreSQL connections per replica: (pool + overflow) × replicas + 1 (the scheduler
    # leader's lock) must stay within the server's max_connections (docs/architecture.md).
    database_pool_size: int = Field(default=10, ge=1, le=200)
    database_max_overflow: int = Field(default=10, ge=0, le=200)
    coe_api_token: SecretStr | None = None
    policy_pack: Path | None = None
    coe_admins: Annotated[tuple[str, ...], NoDecode] = ()
    coe_channel: str | None = Field(default=None, description="channel ID for CoE notices")
    prompts_require_review: bool = False  # CoE reviews each new prompt before it is published
    prompt_report_threshold: int = Field(default=3, ge=1, le=100)  # reports that hide a prompt
    community_channel: str | None = None  # channel ID where unclaimed questions are posted
    business_hours: str = "09:00-17:00"
    business_days: str = "mon-fri"
    business_timezone: str = "UTC"
    claim_deadline_minutes: int = Field(default=30, ge=1, le=7 * 24 * 60)  # business minutes
    answer_deadline_hours: float = Field(default=8.0, gt=0, le=24 * 30)  # 8 = one business day
    surveys_dir: Path | None = None  # more survey definitions (YAML) beside the templates
    survey_secret: SecretStr | None = None  # keys anonymous answers (see survey_key)
    survey_min_group: int = Field(default=5, ge=2, le=100)  # smallest group whose scores are shown
    survey_min_group_text: int = Field(default=10, ge=2, le=100)  # ... whose free text is shown
    survey_send_rate: float = Field(default=50.0, gt=0, le=1000)  # DMs per second to start at
    survey_lease_seconds: int = Field(default=60, ge=5, le=3600)
    survey_include_guests: bool = False  # ask Slack guests (restricted accounts) too
    # How long a full users.list sync (and a users.info answer) stays fresh.
    directory_ttl_hours: float = Field(default=24.0, gt=0, le=24 * 30)
    retention_days: int | None = Field(default=None, ge=30, le=3650)  # purge free text after
    # The AI tools' own usage (`coe-bot usage pull`). Prefixed USAGE_ so a developer's shell
    # (GITHUB_TOKEN) never switches a source on by accident.
    usage_github_api_url: str = "https://api.github.com"
    usage_github_token: SecretStr | None = None
    usage_github_org: str | None = None
    usage_github_enterprise: str | None = None
    usage_cursor_api_url: str = "https://api.cursor.com"
    usage_cursor_api_key: SecretStr | None = None
    usage_anthropic_api_url: str = "https://api.anthropic.com"
    usage_anthropic_admin_key: SecretStr | None = None
    usage_raw_retention_days: int = Field(default=400, ge=30, le=3650)
    costs_file: Path | None = None  # costs.yaml: seat prices and soft guardrails
    # The monthly report (`/reports/monthly`): the key of its signed links (its own secret,
    # at least 32 bytes) and where people reach this server, for the links it posts.
    report_link_secret: SecretStr | None = None
    public_url: str | None = None
    log_level: str = "INFO"
    log_format: str | None = None  # "json" or "text"; default: json unless on a terminal

    @field_validator("coe_admins", mode="before")
    @classmethod
    def _split_admins(cls, value: object) -> object:
        if isinstance(value, str):
            value = tuple(
                part.strip() for part in value.replace(";", ",").split(",") if part.strip()
            )
        return value

    @field_validator("coe_admins")
    @classmethod
    def _check_admins(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for item in value:
            if not _ADMIN_ID.match(item):
                raise ValueError(f"{item!r} is not a Slack user ID (U…/W…) or user group ID (S…)")
        return value

    @field_validator("usage_github_api_url", "usage_cursor_api_url", "usage_anthropic_api_url")
    @classmethod
    def _check_usage_url(cls, value: str) -> str:
        if not re.match(r"^https?://[^\s/]+", value):
            raise ValueError("must be an http(s) URL such as https://api.github.com")
        return value.rstrip("/")

    @field_validator("usage_github_org", "usage_github_enterprise")
    @classmethod
    def _check_github_name(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(
            r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,98}[A-Za-z0-9])?", value
        ):
            raise ValueError(
                "must be a GitHub organisation or enterprise slug (letters, digits, -)"
            )
        return value or None

    @field_validator("public_url")
    @classmethod
    def _check_public_url(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        if not re.fullmatch(r"https?://[^\s/?#]+(/[^\s?#]*)?", value.strip()):
            raise ValueError(f"{value!r} is not an http(s) URL such as https://coe-bot.example.com")
        return value.strip().rstrip("/")

    @field_validator("slack_api_url")
    @classmethod
    def _check_api_url(cls, value: str) -> str:
        if not re.match(r"^https?://[^\s/]+", value):
            raise ValueError("must be an http(s) URL such as https://slack.com/api/")
        return value if value.endswith("/") else value + "/"

    @field_validator("database_url")
    @classmethod
    def _check_database_url(cls, value: str) -> str:
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError(
                "must be an async SQLAlchemy URL: sqlite+aiosqlite:///file.db "
                "or postgresql+asyncpg://user@host/db"
            )
        return value

    @field_validator("coe_channel", "community_channel")
    @classmethod
    def _check_channel(cls, value: str | None) -> str | None:
        if value and not re.match(r"^[CG][A-Z0-9]{2,}$", value):
            raise ValueError("must be a Slack channel ID such as C0123ABCD")
        return value or None

    @field_validator("survey_secret", "report_link_secret")
    @classmethod
    def _check_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(secret_bytes(value.get_secret_value())) < MIN_SURVEY_SECRET:
            raise ValueError(
                f"needs at least {MIN_SURVEY_SECRET} bytes; make one with "
                "`python -c 'import secrets; print(secrets.token_urlsafe(48))'`"
            )
        return value

    @field_validator("coe_api_token")
    @classmethod
    def _check_api_tokens(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            parse_tokens(value.get_secret_value())  # a ValueError stops start-up, naming it
        return value

    @property
    def api_tokens(self) -> tuple[ApiToken, ...]:
        """The parsed `COE_API_TOKEN` (empty when the API is off)."""
        if self.coe_api_token is None:
            return ()
        return parse_tokens(self.coe_api_token.get_secret_value())

    @field_validator("log_level")
    @classmethod
    def _check_level(cls, value: str) -> str:
        if value.upper() not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
            raise ValueError("must be one of DEBUG, INFO, WARNING, ERROR")
        return value.upper()

    @model_validator(mode="after")
    def _check_business_hours(self) -> Settings:
        try:
            self.working_hours()
        except ValueError as error:
            raise ValueError(f"BUSINESS_HOURS/BUSINESS_DAYS/BUSINESS_TIMEZONE: {error}") from None
        return self

    @model_validator(mode="after")
    def _own_link_secret(self) -> Settings:
        if (
            self.report_link_secret is not None
            and self.survey_secret is not None
            and self.report_link_secret.get_secret_value() == self.survey_secret.get_secret_value()
        ):
            raise ValueError(
                "REPORT_LINK_SECRET: must be its own secret, not SURVEY_SECRET (a leaked"
                " link key must never open anonymous answers)"
            )
        return self

    def working_hours(self) -> BusinessHours:
        return BusinessHours.parse(self.business_hours, self.business_days, self.business_timezone)

    def survey_rules(self) -> Rules:
        """The minimum group sizes every survey output obeys (`services/survey_disclosure`)."""
        from bot.services.survey_disclosure import Rules

        return Rules(min_group=self.survey_min_group, min_text=self.survey_min_group_text)

    def survey_key(self, *, anonymous: bool = True) -> bytes:
        """The HMAC key of respondent keys while a run is open (`SURVEY_SECRET`). Anonymous
        surveys need it set: raises `MissingSurveySecret` (a friendly `BadInput`) when it is
        not. Named surveys store who answered anyway and fall back to the derived key."""
        if self.survey_secret is not None:
            return secret_bytes(self.survey_secret.get_secret_value())
        if anonymous:
            raise MissingSurveySecret(
                "Anonymous surveys need SURVEY_SECRET (32 or more random bytes) set by the "
                "CoE's operator; nothing was sent or saved."
            )
        return self.derived_survey_key()

    def derived_survey_key(self) -> bytes:
        """The key earlier versions derived from the signing secret when SURVEY_SECRET was
        unset; `coe-bot surveys secret --show-derived` prints it for runs still open under it."""
        base = self.slack_signing_secret.get_secret_value() if self.slack_signing_secret else ""
        return hashlib.sha256(f"coe-bot survey key:{base}".encode()).digest()

    @property
    def has_slack_credentials(self) -> bool:
        return self.slack_bot_token is not None and self.slack_signing_secret is not None

    def require_slack(self, *, socket_mode: bool) -> None:
        """Raise `ConfigError` naming the first Slack variable this mode is missing."""
        if self.slack_bot_token is None:
            raise ConfigError("SLACK_BOT_TOKEN: required to talk to Slack (an xoxb- bot token)")
        if socket_mode and self.slack_app_token is None:
            raise ConfigError(
                "SLACK_APP_TOKEN: required for Socket Mode (an xapp- app-level token)"
            )
        if not socket_mode and self.slack_signing_secret is None:
            raise ConfigError("SLACK_SIGNING_SECRET: required to verify requests from Slack")

    @property
    def is_default_database(self) -> bool:
        return self.database_url.startswith("sqlite+aiosqlite://")

    @property
    def admin_user_ids(self) -> frozenset[str]:
        return frozenset(a for a in self.coe_admins if not a.startswith("S"))

    @property
    def admin_group_ids(self) -> frozenset[str]:
        return frozenset(a for a in self.coe_admins if a.startswith("S"))


def load_settings(**overrides: object) -> Settings:
    """Build the settings; a problem becomes one `ConfigError` line naming the variable."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        err = exc.errors()[0]
        message = str(err["msg"]).removeprefix("Value error, ")
        if not err["loc"]:
            raise ConfigError(message) from None
        raise ConfigError(f"{str(err['loc'][0]).upper()}: {message}") from None
