"""`SURVEY_SECRET` for a set-up without Slack credentials (`make run`, `coe-bot try`).

Anonymous surveys need a secret of at least 32 bytes (`config.MIN_SURVEY_SECRET`). With the
Slack stand-in and the SQLite default, one is generated once into a file beside the
database, readable by its owner only (0600) — never into `.env`, which people copy around.
A real deployment sets SURVEY_SECRET itself (a secret manager), and this file plays no part.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from pydantic import SecretStr

from bot.config import Settings

SUFFIX = ".survey-secret"


def secret_file(database_url: str) -> Path | None:
    """The file beside a SQLite database (`<file>.survey-secret`); None for other databases
    and for in-memory SQLite."""
    prefix = "sqlite+aiosqlite:///"
    if not database_url.startswith(prefix):
        return None
    path = database_url.removeprefix(prefix).split("?", 1)[0]
    if not path or path == ":memory:":
        return None
    return Path(path).with_name(Path(path).name + SUFFIX)


def with_local_secret(settings: Settings) -> Settings:
    """`settings` with SURVEY_SECRET read from its file, made first (0600) if missing;
    unchanged when SURVEY_SECRET is set or the database is not a SQLite file."""
    path = secret_file(settings.database_url)
    if settings.survey_secret is not None or path is None:
        return settings
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as out:
            out.write(secrets.token_urlsafe(48) + "\n")
    value = path.read_text(encoding="utf-8").strip()
    return settings.model_copy(update={"survey_secret": SecretStr(value)})
