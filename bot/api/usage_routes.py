"""`/api/v1/usage` (Copilot figures per team and period, scope `metrics`) and
`/api/v1/seats/idle` (idle seats by name, scope `seats`). Definitions: docs/usage.md."""

from __future__ import annotations

import datetime as dt
from typing import Any

from aiohttp import web

from bot.api import DEPS, WINDOW, ApiError, Param, Route, day_range, json_response
from bot.api_tokens import SEATS
from bot.services import costs, usage_figures

MAX_DAYS = 400  # one request covers at most this many days (raw rows are kept 400 days)
DEFAULT_SPAN = {"week": dt.timedelta(weeks=12), "month": dt.timedelta(days=183)}


async def usage(request: web.Request, params: dict[str, Any]) -> web.StreamResponse:
    deps = request.app[DEPS]
    period = params.get("period", "week")
    today = deps.clock().date()
    first, last = day_range(
        params, today=today, default_span=DEFAULT_SPAN[period], max_days=MAX_DAYS
    )
    prices = None
    if period == "month":  # only months are priced: a broken costs file blocks no week
        try:
            prices = costs.for_settings(deps.settings)
        except costs.CostsError as error:
            raise ApiError(503, f"costs file has problems: {error}"[:500], "costs") from None
    async with deps.sessions() as session:
        items = await usage_figures.figures(
            session=session,
            period=period,
            since=first,
            until=last,
            rules=deps.settings.survey_rules(),
            team=params.get("team"),
            tools=("copilot", "cursor", "claude_code"),
            costs=prices,
        )
    if params.get("team") and not any(i["measured"] for i in items):
        return json_response(
            {
                "items": items,
                "detail": f"no figures for a team called {params['team'][:80]!r} in this range:"
                ' teams under the minimum group are merged into "(other teams)"',
            }
        )
    return json_response({"items": items})


async def idle(request: web.Request, params: dict[str, Any]) -> web.StreamResponse:
    async with request.app[DEPS].sessions() as session:
        items = await usage_figures.idle_seats(session=session, team=params.get("team"))
    return json_response({"items": items})


ROUTES = [
    Route(
        "/usage",
        "GitHub Copilot, Cursor and Claude Code use per team and week or month, one item per"
        " tool (seats, active and engaged people, acceptance rate, chat and agent people,"
        " idle seats, share matched, who the source cannot see), beside the team's survey"
        " impact; months priced from COSTS_FILE (spend_cents, cost_per_active_person_cents,"
        " reclaimable_cents: null when not priced) with the CoE's note; tool 'any' counts"
        " people using any tool once",
        usage,
        params=(
            Param("period", "enum", "week (default) or month", ("week", "month")),
            *WINDOW,
        ),
    ),
    Route(
        "/seats/idle",
        "Idle Copilot seats by name (latest snapshot), for reclaiming licences (Cursor's idle"
        " members are counted in /usage, not named)",
        idle,
        params=(WINDOW[0],),
        scope=SEATS,
    ),
]
