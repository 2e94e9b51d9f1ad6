"""`/ai-coe digest subscribe|resume|unsubscribe|list|preview` (the caller has checked
COE_ADMINS)."""

from __future__ import annotations

import re
from typing import Any

from slack_sdk.errors import SlackApiError

from bot.deps import Deps
from bot.errors import BadInput
from bot.jobs import channels as channel_jobs
from bot.services import digests
from bot.views.common import ephemeral_text
from bot.views.digests import digest_message, subscriptions_message

_CHANNEL = re.compile(r"^<#([CG][A-Z0-9]{2,})(?:\|[^>]*)?>$|^([CG][A-Z0-9]{2,})$")
USAGE = (
    "Usage: `/ai-coe digest subscribe #channel weekly mon 09:00 Europe/Paris "
    "[prompts questions surveys policy champions tip]`, `/ai-coe digest resume #channel` "
    "(a paused one, as it was), `/ai-coe digest unsubscribe #channel`, "
    "`/ai-coe digest list`, `/ai-coe digest preview [sections…]`."
)


def _channel(token: str) -> str:
    match = _CHANNEL.match(token)
    if not match:
        raise BadInput(f"Name a channel, like #ai-community. {USAGE}")
    return match.group(1) or match.group(2)


async def run(deps: Deps, admin_id: str, tokens: list[str]) -> dict[str, Any]:
    verb = tokens[1].lower() if len(tokens) > 1 else ""
    now = deps.clock()
    if verb == "list":
        return await list_page(deps, 0)
    if verb == "preview":
        sections = [t.lower() for t in tokens[2:] if not t.startswith("<#")] or list(
            digests.SECTIONS
        )
        async with deps.sessions() as session:
            digest = await digests.build(
                session=session,
                start=now - digests.PERIOD,
                end=now,
                sections=sections,
                pack=deps.policy.active.loaded.pack,
                min_group=deps.settings.survey_min_group,
            )
        if not digest.has_news:
            return ephemeral_text(
                "Nothing happened in the last 7 days: this week's digest would not be posted."
            )
        return {**digest_message(digest), "response_type": "ephemeral"}
    if verb == "subscribe" and len(tokens) >= 3:
        channel = _channel(tokens[2])
        await _check_channel(deps, channel)
        async with deps.sessions.begin() as session:
            subscription = await digests.subscribe(
                session=session, channel_id=channel, words=tokens[3:], actor=admin_id, now=now
            )
        day = digests.DAYS[subscription.weekday]
        return ephemeral_text(
            f"<#{channel}> gets the digest every {day} at "
            f"{subscription.time_of_day} ({subscription.timezone})."
        )
    if verb == "resume" and len(tokens) == 3:
        channel = _channel(tokens[2])
        await _check_channel(deps, channel)
        async with deps.sessions.begin() as session:
            subscription = await digests.resume(
                session=session, channel_id=channel, actor=admin_id, now=now
            )
        day = digests.DAYS[subscription.weekday]
        return ephemeral_text(
            f"<#{channel}> gets the digest again every {day} at {subscription.time_of_day} "
            f"({subscription.timezone}): {', '.join(subscription.sections)}."
        )
    if verb == "unsubscribe" and len(tokens) == 3:
        channel = _channel(tokens[2])
        async with deps.sessions.begin() as session:
            await digests.unsubscribe(session=session, channel_id=channel, actor=admin_id, now=now)
        return ephemeral_text(f"<#{channel}> no longer gets the digest.")
    raise BadInput(USAGE)


async def _check_channel(deps: Deps, channel: str) -> None:
    """Ask Slack whether coe-bot can post in `channel`; raise `BadInput` if not. A channel
    coe-bot knew as closed that Slack says is open is reopened (the CoE told)."""
    try:
        info = (await deps.client.conversations_info(channel=channel)).get("channel") or {}
    except SlackApiError as error:
        code = error.response.get("error")
        raise BadInput(f"Slack doesn't know that channel (`{code}`); nothing was stored.") from None
    if info.get("is_archived"):
        raise BadInput(f"<#{channel}> is archived: unarchive it first; nothing was changed.")
    if not info.get("is_member", True):
        raise BadInput(f"Invite me to <#{channel}> first (`/invite @coe-bot`); nothing was stored.")
    async with deps.sessions.begin() as session:
        if await channel_jobs.reopened(deps, session, channel):
            deps.outbox_wakeup.set()


LIST_FETCH = 48  # more than a message's 50 blocks hold: paging keeps the ones that fit


async def list_page(deps: Deps, offset: int) -> dict[str, Any]:
    """The digest subscriptions from `offset` (a CoE admin's list; the caller checks)."""
    async with deps.sessions() as session:
        found = list(await digests.listing(session=session))
    return subscriptions_message(
        found[offset : offset + LIST_FETCH], offset=offset, total=len(found)
    )
