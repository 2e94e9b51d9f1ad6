"""A channel closed or opened again: record it, pause its digest, tell the CoE once.

Called from the channel events (`bot.handlers.events`, before the 200) and from the
outbox worker when Slack refuses a post with `is_archived`, `not_in_channel` or
`channel_not_found`; both run in the caller's transaction, so the state, the paused
digest and the CoE's notice commit together or not at all.
"""

from __future__ import annotations

import logging

from slack_sdk.errors import SlackApiError
from sqlmodel.ext.asyncio.session import AsyncSession

from bot import notices
from bot.deps import Deps
from bot.services import channels, digests, outbox
from bot.services.channels import SAID
from bot.views.common import escape

logger = logging.getLogger(__name__)


async def closed(deps: Deps, session: AsyncSession, channel_id: str, reason: str) -> int:
    """`channel_id` can no longer be posted in ("archived", "removed", "not_found"). The
    first to hear it pauses the channel's digest and, if the channel had a part (community
    or CoE channel, a digest), tells the CoE what that changes; a repeat changes nothing.
    Returns how many rows were queued."""
    now = deps.clock()
    if not await channels.close(session, channel_id, reason, now):
        return 0
    logger.warning("channel %s closed for coe-bot: %s", channel_id, reason)
    paused = await digests.pause(
        session=session, channel_id=channel_id, reason=channels.LABEL[reason]
    )
    places = deps.places()
    lines = [f":warning: coe-bot can no longer post in <#{channel_id}>: it {SAID[reason]}."]
    if channel_id in (places.community, places.coe):
        lines.append(f"Questions nobody could take now go {await _where(deps, session)}.")
    if channel_id == places.coe:
        lines.append(
            "CoE notices now come to the CoE admins by DM."
            if places.admins
            else "CoE notices wait until it opens again (no admin is listed by user ID)."
        )
        others = [
            f"<#{c}> ({channels.LABEL[why]})"
            for c, why in (await channels.closed(session, places.for_questions())).items()
            if c != channel_id
        ]
        if others:
            lines.append(f"Also closed: {', '.join(others)}.")
    if paused:
        lines.append("Its digest is paused.")
    if len(lines) == 1:
        return 0  # a channel with no part in coe-bot's work: recorded, nobody bothered
    lines.append(
        f"To undo: {channels.UNDO[reason]}"
        + (f", then `/ai-coe digest resume {channel_id}`." if paused else ".")
    )
    return await notices.to_coe(
        session=session,
        places=places,
        dedupe_key=f"channel-closed:{channel_id}:{now:%Y%m%dT%H%M%S%f}",
        kind="channel-notice",
        text=" ".join(lines),
        now=now,
    )


async def reopened(deps: Deps, session: AsyncSession, channel_id: str) -> int:
    """`channel_id` can be posted in again (unarchived, or coe-bot invited back): tell the
    CoE once if it had been known closed. Its digest stays paused until subscribed again
    (the CoE chose to pause nothing; a channel back from the archive may not want it)."""
    now = deps.clock()
    was = await channels.reopen(session, channel_id, now)
    if was is None:
        return 0
    if not await _has_part(deps, session, channel_id):
        return await outbox.release_channel(session=session, channel=channel_id, now=now)
    logger.warning("channel %s open again for coe-bot (was %s)", channel_id, was)
    released = await outbox.release_channel(session=session, channel=channel_id, now=now)
    places = deps.places()
    text = f":white_check_mark: coe-bot can post in <#{channel_id}> again."
    if channel_id == places.community or (channel_id == places.coe and not places.community):
        text += " Questions nobody could take go there again."
    if any(
        s.channel_id == channel_id and s.status == "paused"
        for s in await digests.listing(session=session)
    ):
        text += (
            f" Its digest stays paused: `/ai-coe digest resume {escape(channel_id)}` restarts it."
        )
    return released + await notices.to_coe(
        session=session,
        places=places,
        dedupe_key=f"channel-open:{channel_id}:{now:%Y%m%dT%H%M%S%f}",
        kind="channel-notice",
        text=text,
        now=now,
    )


async def _where(deps: Deps, session: AsyncSession) -> str:
    to = await channels.recipients(session, deps.places().for_questions())
    if not to:
        return "nowhere: set COMMUNITY_CHANNEL or COE_CHANNEL to a channel coe-bot is in"
    if channels.is_channel(to[0]):
        return f"to <#{to[0]}>"
    return "to the CoE admins by DM"


async def _has_part(deps: Deps, session: AsyncSession, channel_id: str) -> bool:
    places = deps.places()
    return channel_id in (places.community, places.coe) or any(
        s.channel_id == channel_id for s in await digests.listing(session=session)
    )


async def recheck_closed(deps: Deps) -> int:
    """Hourly, on the leader: `recheck` each closed channel that has a part (an event may
    have been missed while coe-bot was down). Returns how many reopened."""
    async with deps.sessions() as session:
        parts = [c for c in await channels.all_closed(session) if await _has_part(deps, session, c)]
    return await recheck(deps, parts)


async def recheck(deps: Deps, channel_ids: list[str]) -> int:
    """Ask `conversations.info` about each channel and reopen those Slack says are not
    archived and have coe-bot in them. Used after `channel_unarchive` too: Slack's docs do
    not say whether the bot is still a member then (docs/slack-contract.md), and a channel
    reopened without it would close again on the next post. Errors reading Slack change
    nothing. Returns how many reopened."""
    count = 0
    for channel_id in channel_ids:
        try:
            info = (await deps.client.conversations_info(channel=channel_id)).get("channel") or {}
        except SlackApiError as error:
            logger.info("conversations.info %s: %s", channel_id, error.response.get("error"))
            continue
        if info.get("is_archived") or not info.get("is_member"):
            continue
        async with deps.sessions.begin() as session:
            queued = await reopened(deps, session, channel_id)
        count += 1
        if queued:
            deps.outbox_wakeup.set()
    return count


async def recheck_one(deps: Deps, channel_id: str) -> None:
    """`recheck` for one channel, as a background task (its errors are logged)."""
    await recheck(deps, [channel_id])
