"""Daily: tell the CoE channel about each soft guardrail a team crossed this month, once
per team, threshold and month (the outbox's dedupe key), naming the figure, its trend and
the team's owner. Never a cap: nothing is blocked."""

from __future__ import annotations

import datetime as dt
import logging

from sqlmodel.ext.asyncio.session import AsyncSession

from bot import notices
from bot.deps import Deps
from bot.services import costs, guardrails
from bot.services.channels import Places
from bot.views.common import escape

logger = logging.getLogger(__name__)

JOB = "usage-guardrails"


async def check(deps: Deps) -> int:
    """How many crossings were queued now (0 without a costs file or a CoE place)."""
    try:
        prices = costs.for_settings(deps.settings)
    except costs.CostsError as error:
        logger.warning("soft guardrails not checked: %s", error)
        return 0
    places = deps.places()
    if prices is None or not places.for_coe():
        return 0
    now = deps.clock()
    async with deps.sessions.begin() as session:
        found = await guardrails.crossings(
            session=session, costs=prices, rules=deps.settings.survey_rules(), day=now.date()
        )
        queued = await tell(session=session, places=places, found=found, now=now)
        for name in await guardrails.unknown_teams(session=session, costs=prices):
            logger.warning("%s: team_guardrails names %r, which is no team", prices.source, name)
    if queued:
        deps.outbox_wakeup.set()
        logger.info("%d soft guardrail crossings queued for the CoE", queued)
    return queued


async def tell(
    *,
    session: AsyncSession,
    places: Places,
    found: list[guardrails.Crossing],
    now: dt.datetime,
) -> int:
    """Queue the CoE's post for each crossing not told before this month; how many."""
    queued = 0
    for crossing in found:
        key = f"{JOB}:{crossing.month}:{crossing.team.lower()}:{crossing.kind}:{crossing.tool}"
        queued += await notices.to_coe(
            session=session,
            places=places,
            dedupe_key=key[:200],
            kind=JOB,
            text=message(crossing),
            now=now,
        )
    return queued


def message(crossing: guardrails.Crossing) -> str:
    """The CoE channel's post for one crossing (mrkdwn; team names escaped)."""
    team = escape(crossing.team)
    merged = (
        f" (teams {escape(', '.join(crossing.includes))})"
        if len(crossing.includes) > 1 or crossing.includes[0] != crossing.team
        else ""
    )
    owners = ", ".join(f"<@{owner}>" for owner in crossing.owners)
    ask = (
        f"Owner: {owners}, who can say why."
        if owners
        else "No owner on record: the teams CSV's `owner` column names who can say why."
    )
    return (
        f":warning: *{team}*{merged} crossed a soft guardrail in {crossing.month}:"
        f" {guardrails.describe(crossing)}. {ask}"
        f" Record it with `/ai-coe usage note {team} <why>`: it shows beside the figures."
    )
