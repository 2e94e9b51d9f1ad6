"""`coe-bot usage demo`: a realistic organisation for a new CoE's first look.

The GitHub stand-in gets the organisation's seats and months of Copilot use
(`bot.standin.github_demo`); coe-bot gets its people as Slack users with e-mails (the
people directory), its team roster, and each GitHub login's e-mail (`person_identity`), so
a pull matches logins to teams the way a real set-up does: login → e-mail → Slack user →
team. The demo is recorded in the audit trail, which is also how a later `usage pull`
builds the same organisation again.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import delete
from sqlmodel import col, select

from bot.db import Sessions
from bot.errors import BadInput
from bot.models import (
    ClaudeCodeUserDay,
    CopilotSeat,
    CopilotUserDay,
    CopilotUserPeriod,
    CopilotUserTeam,
    CursorMember,
    CursorSpend,
    CursorUserDay,
    UsagePull,
)
from bot.services import audit, identities, people, rollout, teams
from bot.usage.sources import DEMO_ACTION, DemoSpec, demo_spec

STANDIN_ENTITY = "org:standin-org"  # the GitHub stand-in's org
PULLED = (
    ClaudeCodeUserDay,
    CopilotUserDay,
    CopilotUserPeriod,
    CopilotUserTeam,
    CopilotSeat,
    CursorUserDay,
    CursorMember,
    CursorSpend,
    UsagePull,
)


@dataclass(frozen=True)
class DemoMade:
    people: int
    teams: int
    seats: int


async def install(*, sessions: Sessions, spec: DemoSpec, now: dt.datetime) -> DemoMade:
    """Add the demo organisation's people, roster and identities (again: nothing doubles)
    and record `spec`. A demo of another organisation (other size, span or seed) replaces
    the one before: the Copilot rows pulled from it are deleted (the demo runs only against
    the stand-in, so they can be nothing else), and the next pull reaches back again.
    Returns what it holds."""
    from bot.standin import pulls_demo
    from bot.standin.github_demo import build_demo

    async with sessions() as session:
        real = (
            await session.exec(
                select(UsagePull.target).where(col(UsagePull.standin).is_(False)).limit(1)
            )
        ).first()
        other = (
            await session.exec(
                select(CopilotUserDay.entity)
                .where(col(CopilotUserDay.entity) != STANDIN_ENTITY)
                .limit(1)
            )
        ).first()  # pulled before pulls named their target
    if real is not None or other is not None:
        raise BadInput(
            f"this database holds usage pulled from {real or other}: the demo would mix"
            " invented figures with it. Try the demo on a fresh database."
        )

    organisation = build_demo(
        people=spec.people, days=spec.days, seed=spec.seed, end_day=spec.end_day
    )
    async with sessions.begin() as session:
        before = await demo_spec(session=session)
        same = (spec.people, spec.days, spec.seed)
        if before is not None and (before.people, before.days, before.seed) != same:
            for table in PULLED:
                await session.exec(delete(table))
        await people.apply(
            session=session,
            users=[
                {
                    "id": p.slack_user_id,
                    "name": p.login,
                    "real_name": p.name,
                    "profile": {"email": p.email, "real_name": p.name},
                    "tz": "Europe/London",
                }
                for p in organisation.people
            ],
            now=now,
        )
        await teams.import_rows(
            session=session,
            rows=[
                (n, {"user_id": p.slack_user_id, "team": p.team, "is_champion": "", "topics": ""})
                for n, p in enumerate(organisation.people, start=2)
            ],
            actor="demo",
            now=now,
        )
        await identities.import_rows(
            session=session,
            rows=[
                identities.IdentityRow(n, p.login.lower(), p.email.lower(), None)
                for n, p in enumerate(organisation.people, start=2)
            ],
            now=now,
            source="demo",
        )
        # each team's rollout wave and start: its seats' first day (for /api/v1/impact);
        # a start the CoE set is kept when the demo is made again
        already = {r.team.lower() for r in await rollout.listing(session=session)}
        for name, (wave, start) in pulls_demo.waves(organisation).items():
            if name.lower() not in already:
                await rollout.set_start(
                    session=session, team=name, wave=wave, start=start, actor="demo", now=now
                )
        await audit.record(
            session=session,
            actor="cli",
            action=DEMO_ACTION,
            now=now,
            subject="copilot",
            details=spec.as_details(),
        )
    return DemoMade(
        people=len(organisation.people),
        teams=len(organisation.teams),
        seats=len(organisation.seats()),
    )
