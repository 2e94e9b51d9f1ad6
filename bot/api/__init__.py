"""The CoE review API at /api/v1: scoped bearer tokens, JSON errors, cursor pagination, OpenAPI.

Every route is declared once in `ROUTES` with its parameters; the handlers read their
parameters through that declaration (unknown or malformed ones answer 422 naming the
field), and `/api/v1/openapi.json` is generated from the same table, so the document
cannot drift from the handlers.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from bot.api_tokens import METRICS, ApiToken
from bot.deps import Deps
from bot.models import MAX_ID
from bot.services.text import has_control_characters

logger = logging.getLogger(__name__)

DEPS = web.AppKey("api-deps", Deps)
CONSUMER = web.RequestKey("api-consumer", ApiToken)
MAX_LIMIT = 500
FIRST_DAY, LAST_DAY = dt.date(1970, 1, 1), dt.date(9998, 12, 31)  # room for date arithmetic


class ApiError(Exception):
    def __init__(self, status: int, message: str, field_name: str | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.field = status, message, field_name


@dataclass(frozen=True, slots=True)
class Param:
    name: str
    kind: str  # "string", "date", "integer", "cursor", "enum"
    description: str
    choices: tuple[str, ...] = ()


PAGE = (
    Param("limit", "integer", f"items per page, 1 to {MAX_LIMIT} (default 100)"),
    Param("cursor", "cursor", "the `next_cursor` of the previous page"),
)
WINDOW = (
    Param("team", "string", "only this team"),
    Param("since", "date", "from this date (YYYY-MM-DD, inclusive)"),
    Param("until", "date", "before this date (YYYY-MM-DD, exclusive)"),
)

Handler = Callable[[web.Request, dict[str, Any]], Awaitable[web.StreamResponse]]


@dataclass(slots=True)
class Route:
    path: str
    summary: str
    handler: Handler
    params: tuple[Param, ...] = ()
    path_params: tuple[str, ...] = ()
    csv: bool = False
    scope: str = METRICS  # the token scope a consumer needs (bot.api_tokens.SCOPES)
    tags: tuple[str, ...] = field(default_factory=tuple)


def day_range(
    params: dict[str, Any], *, today: dt.date, default_span: dt.timedelta, max_days: int
) -> tuple[dt.date, dt.date]:
    """The first and last UTC day (inclusive) a request's `since` / `until` (exclusive) ask
    for: `until` defaults to tomorrow (today included), `since` to `default_span` before.
    Raises `ApiError` 422 for a `since` in the future, after `until`, or more than
    `max_days` days."""
    if params.get("since") and params["since"].date() > today:
        raise ApiError(422, f"since is in the future: at most {today}", "since")
    last = params["until"].date() - dt.timedelta(days=1) if params.get("until") else today
    first = params["since"].date() if params.get("since") else last - default_span
    if first > last:
        raise ApiError(
            422,
            "since must be before until (until is exclusive: since=D&until=D+1 is one day)",
            "since",
        )
    if (last - first).days >= max_days:
        raise ApiError(422, f"ask for at most {max_days} days at a time", "since")
    return first, last


def read_params(request: web.Request, route: Route) -> dict[str, Any]:
    known = {p.name: p for p in route.params}
    if route.csv:
        known["format"] = Param("format", "enum", "json or csv", ("json", "csv"))
    values: dict[str, Any] = {}
    for name, raw in request.query.items():
        if name in values:
            raise ApiError(422, f"{name} is given more than once", name)
        param = known.get(name)
        if param is None:
            raise ApiError(422, f"unknown parameter {name!r}", name)
        values[name] = _convert(param, raw)
    values.setdefault("limit", 100)
    for name in route.path_params:
        values[name] = _text(name, request.match_info[name])
    return values


def _convert(param: Param, raw: str) -> Any:
    if param.kind == "integer":
        if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= MAX_LIMIT:
            raise ApiError(
                422, f"{param.name} must be a whole number from 1 to {MAX_LIMIT}", param.name
            )
        return int(raw)
    if param.kind == "date":
        try:
            day = dt.date.fromisoformat(raw)
        except ValueError:
            day = None
        if day is None or not FIRST_DAY <= day <= LAST_DAY:
            raise ApiError(
                422, f"{param.name} must be a date like 2026-11-30, from 1970 on", param.name
            )
        return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)
    if param.kind == "cursor":
        return decode_cursor(raw)
    if param.kind == "enum" and raw not in param.choices:
        raise ApiError(422, f"{param.name} must be one of {', '.join(param.choices)}", param.name)
    return _text(param.name, raw)


def _text(name: str, raw: str) -> str:
    """A free-text parameter: at most 200 characters, none of them a control character."""
    if len(raw) > 200:
        raise ApiError(422, f"{name} is too long", name)
    if has_control_characters(raw):
        raise ApiError(422, f"{name} contains control characters", name)
    return raw


def encode_cursor(last_id: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"after": last_id}).encode()).decode()


def decode_cursor(raw: str) -> int:
    try:
        value = json.loads(base64.urlsafe_b64decode(raw.encode()))["after"]
    except (ValueError, KeyError, TypeError):
        value = None
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= MAX_ID:
        raise ApiError(422, "cursor is not one this API gave out", "cursor")
    return value


def page(items: list[dict[str, Any]], limit: int, key: str = "id") -> dict[str, Any]:
    more = len(items) > limit
    shown = items[:limit]
    return {
        "items": shown,
        "next_cursor": encode_cursor(int(shown[-1][key])) if more and shown else None,
    }


def json_default(value: Any) -> Any:
    """How the API and the exports write what JSON has no type for: a moment as ISO 8601
    with its offset (`2026-12-07T00:59:21.804234+00:00`, RFC 3339 as OpenAPI's date-time
    expects), a day as `2026-12-07`, anything else as its text."""
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return str(value)


def json_response(data: Any, status: int = 200) -> web.Response:
    return web.json_response(
        data, status=status, dumps=lambda d: json.dumps(d, default=json_default)
    )
