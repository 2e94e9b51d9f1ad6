"""The people directory: who is in the Slack workspace, as Slack last told us."""

from __future__ import annotations

import datetime as dt

from sqlmodel import Field, SQLModel

from bot.models.base import ts


class Person(SQLModel, table=True):
    """One Slack user, from `users.list`, `users.info`, `user_change` or `team_join`.

    `deleted` is Slack's deactivated flag; `is_guest` is Slack's `is_restricted` or
    `is_ultra_restricted` (multi- and single-channel guests); `updated` is Slack's own
    `updated` (epoch seconds), so an older copy never overwrites a newer one.
    """

    __tablename__ = "person"

    user_id: str = Field(primary_key=True, max_length=32)
    name: str = Field(default="", max_length=120)
    real_name: str = Field(default="", max_length=200)
    email: str | None = Field(default=None, max_length=254, index=True)
    tz: str | None = Field(default=None, max_length=64)
    deleted: bool = False
    is_bot: bool = False
    is_guest: bool = False
    updated: int = 0
    synced_at: dt.datetime = ts()  # when Slack last told us about this person

    @property
    def reachable(self) -> bool:
        """A person a message can reach: not deactivated, not a bot."""
        return not self.deleted and not self.is_bot


class ChannelState(SQLModel, table=True):
    """A channel coe-bot cannot post in any more, as Slack told us (an event, or a post
    refused with `is_archived`, `not_in_channel` or `channel_not_found`).

    `closed` is "archived", "removed" (the bot is no longer a member) or "not_found", and
    None once it is open again; `changed_at` (UTC) is when that last changed, so each
    closing is told to the CoE once. A channel with no row is presumed open.
    """

    __tablename__ = "channel_state"

    channel_id: str = Field(primary_key=True, max_length=32)
    closed: str | None = Field(default=None, max_length=20)
    changed_at: dt.datetime = ts()
