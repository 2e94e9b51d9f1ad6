"""`/ai-coe champions …` and `/ai-coe teams map …` (the caller has checked COE_ADMINS)."""

from __future__ import annotations

import re
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.deps import Deps
from bot.errors import BadInput
from bot.services import audit, champions, people, teams
from bot.views.common import ephemeral_text, escape
from bot.views.questions import champions_list

_MENTION = re.compile(r"^<@([UW][A-Z0-9]{2,})(?:\|[^>]*)?>$|^([UW][A-Z0-9]{2,})$")
USAGE = (
    "Usage: `/ai-coe champions add @user team=<team> topics=python,testing [capacity=5]`, "
    "`/ai-coe champions remove @user`, `/ai-coe champions list`, "
    "`/ai-coe teams map <usergroup-id> <team>`, `/ai-coe teams map <team> tier=<tier|none>`."
)


def _user(token: str) -> str:
    match = _MENTION.match(token)
    if not match:
        raise BadInput(f"“{escape(token[:40])}” is not a person: mention them, like @alice.")
    return match.group(1) or match.group(2)


def _options(tokens: list[str]) -> dict[str, str]:
    options: dict[str, str] = {}
    for token in tokens:
        key, sep, value = token.partition("=")
        if not sep or key.lower() not in {"team", "topics", "capacity"}:
            raise BadInput(f"I don't understand “{escape(token[:40])}”. {USAGE}")
        options[key.lower()] = value
    return options


async def run(deps: Deps, admin_id: str, text: str) -> dict[str, Any]:
    tokens = text.split()
    verb = " ".join(t.lower() for t in tokens[:2])
    now = deps.clock()
    async with deps.sessions.begin() as session:
        if verb == "champions list":
            found = list(await champions.listing(session=session))
            return champions_list(found[:LIST_FETCH], total=len(found))
        if verb == "champions add" and len(tokens) >= 3:
            user = _user(tokens[2])
            options = _options(tokens[3:])
            if "team" not in options:
                raise BadInput(f"Which team? {USAGE}")
            capacity = _capacity(options.get("capacity"))
            await _reachable(session, user)
            team = await teams.get_or_create(session=session, name=options["team"], now=now)
            topics = teams.parse_topics(options.get("topics", ""))
            await champions.upsert(
                session=session, user_id=user, team=team, topics=topics, now=now, capacity=capacity
            )
            await teams.set_member(session=session, user_id=user, team=team, now=now)
            await audit.record(
                session=session,
                actor=admin_id,
                action="champion.add",
                subject=user,
                details={"team": team.name, "topics": topics},
                now=now,
            )
            about = ", ".join(topics) or "any topic"
            return ephemeral_text(
                f"<@{user}> is now a champion of *{escape(team.name)}* for {escape(about)}."
            )
        if verb == "champions remove" and len(tokens) == 3:
            user = _user(tokens[2])
            if not await champions.retire(session=session, user_id=user, reason="removed", now=now):
                raise BadInput(f"<@{user}> is not an active champion.")
            await audit.record(
                session=session, actor=admin_id, action="champion.remove", subject=user, now=now
            )
            return ephemeral_text(
                f"<@{user}> is no longer a champion. Their open questions "
                "stay with them until they pass or the deadline moves them."
            )
        if verb == "teams map" and len(tokens) == 4 and tokens[3].lower().startswith("tier="):
            tier = tokens[3].partition("=")[2].strip().lower()
            known = [t.id for t in deps.policy.active.loaded.pack.tiers]
            team = await teams.set_tier(
                session=session,
                team=tokens[2],
                tier=None if tier in {"none", ""} else tier,
                known_tiers=known,
                actor=admin_id,
                now=now,
            )
            await deps.team_tiers.load(session)
            if team.tier is None:
                return ephemeral_text(
                    f"Team *{escape(team.name)}* has no default tier now: `/ai-policy` asks "
                    "when a question doesn't say."
                )
            name = deps.policy.active.loaded.pack.tier(team.tier).name
            return ephemeral_text(
                f"Questions from team *{escape(team.name)}* are now answered for "
                f"*{escape(name)}* systems unless they say otherwise."
            )
        if verb == "teams map" and len(tokens) == 4:
            team = await teams.map_usergroup(
                session=session, usergroup_id=tokens[2], team=tokens[3], actor=admin_id, now=now
            )
            return ephemeral_text(
                f"Members of <!subteam^{tokens[2]}> now count as team *{escape(team.name)}*."
            )
    raise BadInput(USAGE)


def _capacity(raw: str | None) -> int | None:
    if raw is None:
        return None
    if not raw.isdigit() or not 1 <= int(raw) <= 50:
        raise BadInput("capacity must be a whole number from 1 to 50.")
    return int(raw)


async def _reachable(session: AsyncSession, user_id: str) -> None:
    """Refuse a champion the people directory knows as deactivated or a bot (BadInput):
    routing would never pick them. Someone it does not know yet is accepted."""
    person = (await people.known(session=session, user_ids=[user_id])).get(user_id)
    if person is not None and not person.reachable:
        what = "a deactivated Slack account" if person.deleted else "a bot"
        raise BadInput(f"<@{user_id}> is {what}, so they cannot be a champion; nothing changed.")


LIST_FETCH = 48  # more than a message's 50 blocks hold: paging keeps the ones that fit


async def list_page(deps: Deps, offset: int) -> dict[str, Any]:
    """The champions from `offset` (a CoE admin's list; the caller checks)."""
    async with deps.sessions() as session:
        found = list(await champions.listing(session=session))
    return champions_list(found[offset : offset + LIST_FETCH], offset=offset, total=len(found))
