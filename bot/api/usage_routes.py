"""`/api/v1/usage` (Copilot figures per team and period, scope `metrics`) and
`/api/v1/seats/idle` (idle seats by name, scope `seats`). Definitions: docs/usage.md."""

from __future__ import annotations

import datetime as dt
from typing import Any

from aiohttp import web

from bot.api import DEPS, WINDOW, ApiError, Param, Route, json_response
from bot.api_tokens import SEATS
from bot.services import usage_figures

MAX_DAYS = 400  # one request covers at most this many days (raw rows are kept 400 days)
DEFAULT_SPAN = {"week": dt.timedelta(weeks=12), "month": dt.timedelta(days=183)}


async def usage(request: web.Request, params: dict[str, Any]) -> web.StreamResponse:
    deps = request.app[DEPS]
    period = params.get("period", "week")
    last = (
        params["until"].date() - dt.timedelta(days=1)
        if params.get("until")
        else deps.clock().date()
    )
    first = params["since"].date() if params.get("since") else last - DEFAULT_SPAN[period]
    if first > last:
        raise ApiError(422, "since must be before until", "since")
    if (last - first).days >= MAX_DAYS:
        raise ApiError(422, f"ask for at most {MAX_DAYS} days at a time", "since")
    async with deps.sessions() as session:
        items = await usage_figures.figures(
            session=session,
            period=period,
            since=first,
            until=last,
            rules=deps.settings.survey_rules(),
            team=params.get("team"),
            tools=("copilot", "cursor"),
        )
    return json_response({"items": items})


async def idle(request: web.Request, params: dict[str, Any]) -> web.StreamResponse:
    async with request.app[DEPS].sessions() as session:
        items = await usage_figures.idle_seats(session=session, team=params.get("team"))
    return json_response({"items": items})


ROUTES = [
    Route(
        "/usage",
        "GitHub Copilot use per team and week or month (seats, active and engaged people,"
        " acceptance rate, idle seats, share matched), beside the team's survey impact",
        usage,
        params=(
            Param("period", "enum", "week (default) or month", ("week", "month")),
            *WINDOW,
        ),
    ),
    Route(
        "/seats/idle",
        "Idle Copilot seats by name (latest snapshot), for reclaiming licences",
        idle,
        params=(WINDOW[0],),
        scope=SEATS,
    ),
]
