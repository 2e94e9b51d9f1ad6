"""Channels coe-bot can post in, and where a message goes when its channel has closed.

Slack tells us a channel closed by an event (`channel_archive`, `group_archive`,
`channel_left`, `group_left`) or by refusing a post (`is_archived`, `not_in_channel`,
`channel_not_found`: https://api.slack.com/methods/chat.postMessage#errors), and that it
opened again by `channel_unarchive`, `group_unarchive` or `member_joined_channel` naming
the bot. Each change is a compare-and-set, so a repeated event or two replicas hearing the
same thing change the state, and tell the CoE, once.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.db import insert_for
from bot.models import ChannelState

# chat.postMessage errors that mean the channel, not the message, is the problem.
CLOSING_ERRORS: dict[str, str] = {
    "is_archived": "archived",
    "not_in_channel": "removed",
    "channel_not_found": "not_found",
}
ERROR_OF = {reason: error for error, reason in CLOSING_ERRORS.items()}
LABEL = {  # short, for lists ("paused (channel archived)")
    "archived": "channel archived",
    "removed": "coe-bot removed from the channel",
    "not_found": "channel not found",
}
SAID = {  # in a sentence: "coe-bot can no longer post in #x: it was archived."
    "archived": "was archived",
    "removed": "no longer has coe-bot in it",
    "not_found": "cannot be found (deleted, or private without coe-bot)",
}
UNDO = {  # what the CoE can do about it
    "archived": "unarchive the channel (with coe-bot still in it)",
    "removed": "invite coe-bot back (`/invite @coe-bot` in the channel)",
    "not_found": (
        "check the channel ID (COMMUNITY_CHANNEL, COE_CHANNEL or the digest subscription) "
        "and that coe-bot is in it"
    ),
}


_CHANNEL_ID = re.compile(r"^[CG][A-Z0-9]{2,30}$")


def channel_id(value: object) -> str | None:
    """A channel ID from outside (an event), or None when it is not one."""
    return value if isinstance(value, str) and _CHANNEL_ID.match(value) else None


def is_channel(conversation: str) -> bool:
    """True for a channel ID (C…, G…); False for a user's ID (a DM) or a DM's D… ID."""
    return conversation[:1] in ("C", "G")


@dataclass(frozen=True, slots=True)
class Places:
    """Where coe-bot posts for the CoE, from the settings: `community` (COMMUNITY_CHANNEL),
    `coe` (COE_CHANNEL) and `admins` (the user IDs in COE_ADMINS, DMed when no channel
    can be posted in; members of listed user groups are not looked up for this)."""

    community: str | None
    coe: str | None
    admins: tuple[str, ...]

    def for_questions(self) -> tuple[str, ...]:
        """A question nobody could take: the community channel, the CoE channel, the admins."""
        channels = tuple(dict.fromkeys(c for c in (self.community, self.coe) if c))
        return channels + self.admins

    def for_coe(self) -> tuple[str, ...]:
        """A notice for the CoE: its channel, else its admins."""
        return ((self.coe,) if self.coe else ()) + self.admins


async def closed(session: AsyncSession, channel_ids: Iterable[str]) -> dict[str, str]:
    """{channel ID: why it is closed} for those of `channel_ids` known closed."""
    wanted = sorted({c for c in channel_ids if is_channel(c)})
    if not wanted:
        return {}
    rows = await session.exec(
        select(ChannelState.channel_id, ChannelState.closed).where(
            col(ChannelState.channel_id).in_(wanted), col(ChannelState.closed).is_not(None)
        )
    )
    return {channel: str(reason) for channel, reason in rows.all()}


async def all_closed(session: AsyncSession) -> list[str]:
    """Every channel known closed, by ID."""
    rows = await session.exec(
        select(ChannelState.channel_id).where(col(ChannelState.closed).is_not(None))
    )
    return sorted(rows.all())


async def recipients(
    session: AsyncSession, chain: tuple[str, ...], *, skip: Iterable[str] = ()
) -> list[str]:
    """Who gets a post meant for `chain` (channels, then user IDs): the first channel not
    known closed, as [channel]; with none, every user ID in the chain; else []. `skip`
    leaves out places that already failed for this post."""
    skipped = set(skip)
    candidates = [c for c in chain if c not in skipped]
    shut = await closed(session, candidates)
    for place in candidates:
        if is_channel(place) and place not in shut:
            return [place]
    return [place for place in candidates if not is_channel(place)]


async def close(session: AsyncSession, channel_id: str, reason: str, now: dt.datetime) -> bool:
    """Record that coe-bot cannot post in `channel_id` ("archived", "removed",
    "not_found"); True only for the call that closed it (it was open or unknown)."""
    added = await session.exec(
        insert_for(session, ChannelState)
        .values(channel_id=channel_id, closed=reason, changed_at=now)
        .on_conflict_do_nothing()
    )
    if added.rowcount:
        return True
    changed = await session.exec(
        update(ChannelState)
        .where(col(ChannelState.channel_id) == channel_id, col(ChannelState.closed).is_(None))
        .values(closed=reason, changed_at=now)
        .execution_options(synchronize_session=False)
    )
    return bool(changed.rowcount)


async def reopen(session: AsyncSession, channel_id: str, now: dt.datetime) -> str | None:
    """Record that coe-bot can post in `channel_id` again; the reason it had been closed,
    or None when it was not known closed (nothing changed)."""
    was = (await closed(session, [channel_id])).get(channel_id)
    if was is None:
        return None
    changed = await session.exec(
        update(ChannelState)
        .where(col(ChannelState.channel_id) == channel_id, col(ChannelState.closed).is_not(None))
        .values(closed=None, changed_at=now)
        .execution_options(synchronize_session=False)
    )
    return was if changed.rowcount else None
