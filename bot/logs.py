"""Logging set-up: JSON lines when not on a terminal, readable text on one."""

from __future__ import annotations

import datetime as dt
import json
import logging
import sys
from typing import Any

_STANDARD = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "taskName"}
_SECRET_KEYS = ("token", "secret", "password", "authorization", "body")


class JsonFormatter(logging.Formatter):
    """One JSON object per line; extra fields are kept, secret-looking ones dropped."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not any(s in key.lower() for s in _SECRET_KEYS):
                entry[key] = value if isinstance(value, int | float | bool | None) else str(value)
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(level: str = "INFO", fmt: str | None = None) -> None:
    """Configure the root logger once; `fmt` is "json", "text" or None (by terminal)."""
    use_json = fmt == "json" or (fmt is None and not sys.stderr.isatty())
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        JsonFormatter()
        if use_json
        else logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s")
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # Libraries that would log request bodies or tokens at DEBUG stay at WARNING.
    noisy_loggers = (
        "slack_bolt",
        "slack_sdk",
        "aiohttp.access",
        "sqlalchemy.engine",
        "apscheduler",
        "alembic",
        "httpx",  # a line per request, with signed download links in it
        "httpcore",
    )
    for noisy in noisy_loggers:
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
