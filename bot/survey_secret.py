"""`SURVEY_SECRET` and `REPORT_LINK_SECRET` for a set-up without Slack credentials
(`make run`, `coe-bot try`).

Anonymous surveys need a secret of at least 32 bytes (`config.MIN_SURVEY_SECRET`). With the
Slack stand-in and the SQLite default, one is generated once into a file beside the
database, readable by its owner only (0600) — never into `.env`, which people copy around.
A real deployment sets SURVEY_SECRET itself (a secret manager), and this file plays no part.
The report's link secret is made the same way, in its own file (`<file>.report-link-secret`):
a link signed by one secret never opens with the other.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from pydantic import SecretStr

from bot.config import Settings

SUFFIX = ".survey-secret"
REPORT_SUFFIX = ".report-link-secret"


def secret_file(database_url: str, suffix: str = SUFFIX) -> Path | None:
    """The file beside a SQLite database (`<file>.survey-secret`); None for other databases
    and for in-memory SQLite."""
    prefix = "sqlite+aiosqlite:///"
    if not database_url.startswith(prefix):
        return None
    path = database_url.removeprefix(prefix).split("?", 1)[0]
    if not path or path == ":memory:":
        return None
    return Path(path).with_name(Path(path).name + suffix)


def with_local_secret(settings: Settings) -> Settings:
    """`settings` with SURVEY_SECRET and REPORT_LINK_SECRET read from their files, each made
    first (0600) if missing; a secret already set, or a database that is not a SQLite
    file, is left as it is."""
    update: dict[str, SecretStr] = {}
    for name, suffix in (("survey_secret", SUFFIX), ("report_link_secret", REPORT_SUFFIX)):
        path = secret_file(settings.database_url, suffix)
        if getattr(settings, name) is None and path is not None:
            update[name] = SecretStr(_read_or_make(path))
    return settings.model_copy(update=update) if update else settings


def _read_or_make(path: Path) -> str:
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as out:
            out.write(secrets.token_urlsafe(48) + "\n")
    return path.read_text(encoding="utf-8").strip()
