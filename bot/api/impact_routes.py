"""`/api/v1/impact` (scope `metrics`): delivery figures per team and week from GitHub's pull
requests beside the team's AI-tool adoption and survey impact, and each started team's
comparison with teams not started yet. Definitions: `bot.services.impact_figures`,
docs/impact.md."""

from __future__ import annotations

import datetime as dt
from typing import Any

from aiohttp import web

from bot.api import DEPS, WINDOW, Route, day_range, json_response
from bot.services import impact_figures, usage_figures

MAX_DAYS = 400
DEFAULT_SPAN = dt.timedelta(weeks=12)


async def impact(request: web.Request, params: dict[str, Any]) -> web.StreamResponse:
    deps = request.app[DEPS]
    today = deps.clock().date()
    first, last = day_range(params, today=today, default_span=DEFAULT_SPAN, max_days=MAX_DAYS)
    rules = deps.settings.survey_rules()
    async with deps.sessions() as session:
        found = await impact_figures.figures(session=session, since=first, until=last, rules=rules)
        usage = await usage_figures.figures(
            session=session, period="week", since=first, until=last, rules=rules
        )
    beside = {(u["period"], u["team"]): u for u in usage if u["measured"]}
    items = []
    for item in found["items"]:
        # a merged row ("(other teams)") holds different teams in each source: never joined
        merged = item["team"].startswith("(")
        used = None if merged else beside.get((item["week"], item["team"]))
        adoption = (
            {k: used[k] for k in ("active_people", "engaged_people", "seats")} if used else None
        )
        items.append({**item, "copilot": adoption, "survey": used["impact"] if used else None})
    answer: dict[str, Any] = {
        "items": items,
        "organisation": found["organisation"],
        "comparisons": found["comparisons"],
        "reading": impact_figures.READING,
    }
    team = (params.get("team") or "").strip().lower()
    if team:
        answer["items"] = [i for i in items if i["team"].lower() == team]
        answer["comparisons"] = [c for c in found["comparisons"] if c["team"].lower() == team]
        if not answer["items"] and not answer["comparisons"]:
            answer["detail"] = (
                f"no figures for a team called {team[:80]!r} in this range: teams under the"
                ' minimum group are merged into "(other teams)" (see each row\'s "includes")'
            )
    return json_response(answer)


ROUTES = [
    Route(
        "/impact",
        "Delivery per team and week from pull requests (median cycle time with revert rate,"
        " first review, size, review load with the AI-assisted share), beside Copilot"
        " adoption and survey impact; Bot-authored and Bot-reviewed shares organisation-wide;"
        " each started team against teams not started yet (difference in differences, 95%"
        " bootstrap interval; association, not causation)",
        impact,
        params=WINDOW,
    ),
]
