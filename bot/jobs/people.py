"""Keeping the people directory true, and acting when someone leaves.

- `sync_directory` (the leader, hourly; skipped while the last full sync is younger than
  `DIRECTORY_TTL_HOURS`) reads `users.list` 200 at a time. Only a sync that read every page
  is applied: one cut short by a 429 or a 5xx changes nobody, and the last good directory
  keeps serving.
- `apply_users` applies user objects from the sync, `users.info` or the `user_change` /
  `team_join` events, and in the same transaction retires a champion whose account was
  deactivated (audited, the CoE told once, their open questions rerouted).
- `recheck` asks `users.info` about one person: a failed DM is a hint, never proof.
  A champion whose account comes back is *not* re-added: a CoE admin does that.

Slack's methods: https://api.slack.com/methods/users.list, https://api.slack.com/methods/users.info
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping, Sequence
from typing import Any

from slack_sdk.errors import SlackApiError
from sqlmodel import col, select

from bot import notices
from bot.db import insert_for
from bot.deps import Deps
from bot.models import Champion, JobRun
from bot.services import audit, people, questions
from bot.services.people import Change

logger = logging.getLogger(__name__)

PAGE = 200  # users.list: Slack recommends no more than 200 per page
JOB = people.DIRECTORY_SYNC
LOOKUPS = 100  # users.info calls one survey send may make (Tier 4: 100+ a minute)
NOT_FOUND = "coe_user_not_found"  # marks the stand-in object for a `user_not_found` answer


async def apply_users(
    deps: Deps, users: Sequence[Mapping[str, Any]], *, source: str
) -> list[Change]:
    """Apply Slack user objects and act on leavers, in one transaction; the changes."""
    now = deps.clock()
    queued = 0
    async with deps.sessions.begin() as session:
        changes = await people.apply(session=session, users=users, now=now)
        # Every deactivated account, changed or not: a champion added after the directory
        # learnt of it (or before a lost event) is retired on the next word from Slack.
        left = [str(u["id"]) for u in users if u.get("deleted") and u.get("id")]
        if left:
            champions = (
                await session.exec(
                    select(Champion).where(col(Champion.user_id).in_(left), col(Champion.active))
                )
            ).all()
            updated = {str(u.get("id")): int(u.get("updated") or 0) for u in users}
            unknown = {str(u.get("id")) for u in users if u.get(NOT_FOUND)}
            for champion in champions:
                queued += await _retire_leaver(
                    deps,
                    session,
                    champion.user_id,
                    now,
                    source,
                    updated.get(champion.user_id, 0),
                    not_found=champion.user_id in unknown,
                )
    if queued:
        deps.outbox_wakeup.set()
    return changes


async def _retire_leaver(
    deps: Deps,
    session: Any,
    user_id: str,
    now: dt.datetime,
    source: str,
    updated: int,
    *,
    not_found: bool = False,
) -> int:
    """Retire a champion Slack says is deactivated (or, `not_found`, not in the workspace
    at all: `users.info` answered `user_not_found`), reroute their open questions, audit
    it and tell the CoE once; how many rows were queued."""
    found = await questions.champion_left(
        session=session,
        user_id=user_id,
        now=now,
        deadlines=deps.deadlines(),
        places=deps.places(),
    )
    rerouted = len({n.question_id for n in found})
    await audit.record(
        session=session,
        actor="slack",
        action="champion.retired",
        subject=user_id,
        now=now,
        details={
            "reason": "not in this Slack workspace"
            if not_found
            else "account deactivated in Slack",
            "source": source,
            "open": rerouted,
        },
    )
    queued = await notices.enqueue(session=session, notices=found, now=now)
    what = (
        f"<@{user_id}> is not in this Slack workspace (Slack says `user_not_found`: check the"
        " ID in your roster)"
        if not_found
        else f"<@{user_id}>'s Slack account was deactivated"
    )
    text = (
        f"{what}, so they are no longer a champion"
        + (f"; {_their(rerouted)} routed again." if rerouted else ".")
        + " If the account comes back, re-add them with `/ai-coe champions add`."
    )
    queued += await notices.to_coe(
        session=session,
        places=deps.places(),
        dedupe_key=f"champion-left:{user_id}:{updated}",
        kind="coe-notice",
        text=text,
        now=now,
    )
    logger.info("champion %s deactivated in Slack: retired, %d rerouted", user_id, rerouted)
    return queued


def _their(count: int) -> str:
    return "their open question was" if count == 1 else f"their {count} open questions were"


async def _users_info(deps: Deps, user_id: str) -> Mapping[str, Any] | None:
    """Slack's user object for one person, or None when Slack could not be read (which says
    nothing about the person). `user_not_found` reads as a deactivated account."""
    try:
        response = await deps.client.users_info(user=user_id)
    except SlackApiError as error:
        if error.response.get("error") == "user_not_found":
            return {"id": user_id, "deleted": True, NOT_FOUND: True}
        logger.warning("users.info %s failed: %s", user_id, error.response.get("error"))
        return None
    user: Mapping[str, Any] | None = response.get("user")
    return user or None


async def recheck(deps: Deps, user_id: str) -> bool:
    """Ask Slack about one person after a DM to them failed; True if they are gone
    (deactivated, or `users.info` says `user_not_found`). Errors reading Slack say
    nothing about the person: False, and nothing changes."""
    user = await _users_info(deps, user_id)
    if user is None:
        return False
    changes = await apply_users(deps, [user], source="users.info")
    return bool(user.get("deleted")) or any(c.left for c in changes)


async def look_up(deps: Deps, user_ids: Sequence[str], *, limit: int = LOOKUPS) -> int:
    """Ask `users.info` about the first `limit` of `user_ids` that the directory does not
    know, or knew longer ago than `DIRECTORY_TTL_HOURS` (a cache: known people cost no call),
    and apply what Slack says; how many were looked up. A failed lookup says nothing about
    the person (they stay unknown, and unknown people are not left out); past `limit` the
    hourly `users.list` sync is the better way to learn a crowd."""
    ttl = dt.timedelta(hours=deps.settings.directory_ttl_hours)
    async with deps.sessions() as session:
        wanted = await people.stale(session=session, user_ids=user_ids, now=deps.clock(), ttl=ttl)
    found = [u for u in [await _users_info(deps, user_id) for user_id in wanted[:limit]] if u]
    if found:
        await apply_users(deps, found, source="users.info")
    return len(wanted[:limit])


async def sync_directory(deps: Deps, *, force: bool = False) -> dict[str, Any] | None:
    """A full `users.list` sync unless the last one is younger than `DIRECTORY_TTL_HOURS`
    (or `force`); what it did ({"people", "pages", "left"}), or None when skipped or cut
    short. Raises nothing: a failure is logged and the directory stays as it was."""
    now = deps.clock()
    ttl = dt.timedelta(hours=deps.settings.directory_ttl_hours)
    async with deps.sessions() as session:
        last = (
            await session.exec(
                select(JobRun.started_at)
                .where(col(JobRun.job) == JOB)
                .order_by(col(JobRun.started_at).desc())
                .limit(1)
            )
        ).first()
    if last is not None and not force and now - last < ttl:
        return None
    members: list[Mapping[str, Any]] = []
    cursor: str | None = None
    pages = 0
    try:
        while True:
            response = await deps.client.users_list(limit=PAGE, cursor=cursor)
            pages += 1
            members += response.get("members") or []
            cursor = (response.get("response_metadata") or {}).get("next_cursor") or None
            if not cursor:
                break
    except (SlackApiError, TimeoutError, OSError) as error:
        logger.warning("directory sync stopped after %d pages, nothing applied: %s", pages, error)
        return None
    changes = await apply_users(deps, members, source="users.list")
    result = {"people": len(members), "pages": pages, "left": sum(c.left for c in changes)}
    async with deps.sessions.begin() as session:
        await session.exec(
            insert_for(session, JobRun)
            .values(job=JOB, period=now.isoformat(), started_at=now, result=result)
            .on_conflict_do_nothing()
        )
    logger.info("directory sync: %s", result)
    return result


EMAIL_LOOKUPS = 50  # users.lookupByEmail calls one pull may make (Tier 3: 50+ a minute)


async def look_up_emails(deps: Deps, emails: Sequence[str], *, limit: int = EMAIL_LOOKUPS) -> int:
    """Ask `users.lookupByEmail` about the first `limit` of `emails` (ones the directory
    does not hold: a tool's user the daily `users.list` sync has not brought in yet) and
    apply who Slack says they are; how many were found. `users_not_found` and other errors
    leave the e-mail unmatched (listed by `coe-bot people unmatched`)."""
    found: list[Mapping[str, Any]] = []
    for email in emails[:limit]:
        try:
            response = await deps.client.users_lookupByEmail(email=email)
        except SlackApiError as error:
            if error.response.get("error") != "users_not_found":
                logger.warning("users.lookupByEmail failed: %s", error.response.get("error"))
            continue
        user = response.get("user")
        if user:
            found.append(user)
    if found:
        await apply_users(deps, found, source="users.lookupByEmail")
    return len(found)
