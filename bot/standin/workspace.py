"""The stand-in's workspace: people, conversations, usergroups, messages, files, views,
triggers.

Tests edit it through `FakeSlack` (`add_user`, `add_channel`, ...) and read what the app
did (`messages`, `views`). The Web API methods in `api_chat` / `api_directory` /
`api_files` work on it.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from .model import ApiError, Args, Channel, SlackFile, User, Usergroup

Clock = Callable[[], datetime]
TRIGGER_TTL = timedelta(seconds=3)
WELL_FORMED_USER = re.compile(r"[UW][A-Z0-9]{2,20}")


DEFAULT_USERS: tuple[tuple[str, str, str, str], ...] = (
    ("U0ALICE", "alice", "Alice Martin", "Europe/Paris"),
    ("U0BOB", "bob", "Bob Smith", "America/New_York"),
    ("U0CAROL", "carol", "Carol Nguyen", "Asia/Kolkata"),
    ("U0DAVE", "dave", "Dave Müller", "Europe/Berlin"),
    ("U0ERIN", "erin", "Erin O'Brien", "America/Los_Angeles"),
)


def utcnow() -> datetime:
    return datetime.now(UTC)


class Workspace:
    """Directory and content of the one workspace the stand-in serves."""

    def __init__(
        self,
        *,
        team_id: str,
        team_domain: str,
        bot_user_id: str,
        bot_id: str,
        app_id: str,
        clock: Clock = utcnow,
        open_directory: bool = False,
    ) -> None:
        self.team_id = team_id
        # `make run` / `coe-bot try`: any well-formed user ID is an active person, so an
        # operator's own roster works locally. Tests keep Slack's `user_not_found`.
        self.open_directory = open_directory
        self.team_domain = team_domain
        self.bot_user_id = bot_user_id
        self.bot_id = bot_id
        self.app_id = app_id
        self.clock = clock
        self.users: dict[str, User] = {}
        self.channels: dict[str, Channel] = {}
        self.usergroups: dict[str, Usergroup] = {}
        self.messages: dict[str, list[dict[str, Any]]] = {}
        self.ephemerals: list[dict[str, Any]] = []
        self.views: dict[str, dict[str, Any]] = {}
        self.home_views: dict[str, dict[str, Any]] = {}
        self.files: dict[str, SlackFile] = {}
        self.upload_tickets: dict[str, str] = {}  # upload URL ticket -> file id, until used
        self.used_upload_tickets: set[str] = set()
        self.triggers: dict[str, datetime] = {}
        self.used_triggers: set[str] = set()
        self._last_us = 0

    # -- directory ------------------------------------------------------------

    def seed(self) -> None:
        """The default directory: five people, a CoE admin, the bot, three channels."""
        for user_id, name, real_name, tz in DEFAULT_USERS:
            self.add_user(user_id, name, real_name=real_name, tz=tz, email=f"{name}@example.com")
        self.add_user(
            "U0ADMIN",
            "coe-admin",
            real_name="CoE Admin",
            tz="Europe/London",
            email="coe-admin@example.com",
            is_admin=True,
        )
        self.add_user(self.bot_user_id, "coebot", real_name="CoE Bot", is_bot=True)
        humans = [u for u in self.users if u != self.bot_user_id]
        self.add_channel("C0GENERAL", "general", humans, is_general=True)
        self.add_channel("C0COE", "ai-coe", ["U0ADMIN", "U0ALICE"])
        self.add_channel("C0COMMUNITY", "ai-community", humans)
        self.add_usergroup("S0COE", "coe-admins", ["U0ADMIN"])

    def add_user(self, user_id: str, name: str, **fields: Any) -> User:
        user = User(id=user_id, name=name, **fields)
        self.users[user_id] = user
        return user

    def add_channel(
        self,
        channel_id: str,
        name: str,
        members: Sequence[str] = (),
        *,
        is_member: bool = True,
        **fields: Any,
    ) -> Channel:
        people = [m for m in members if m != self.bot_user_id]
        if is_member:
            people.append(self.bot_user_id)
        channel = Channel(id=channel_id, name=name, members=people, **fields)
        self.channels[channel_id] = channel
        return channel

    def add_usergroup(self, group_id: str, handle: str, users: Sequence[str] = ()) -> Usergroup:
        group = Usergroup(id=group_id, handle=handle, users=list(users), name=handle)
        self.usergroups[group_id] = group
        return group

    def user(self, user_id: str | None, error: str = "user_not_found") -> User:
        user = self.users.get(user_id or "")
        if user is None and self.open_directory and WELL_FORMED_USER.fullmatch(user_id or ""):
            assert user_id is not None
            user = self.add_user(user_id, user_id.lower(), real_name=user_id)
        if user is None:
            raise ApiError(error)
        return user

    def channel(self, channel_id: str | None) -> Channel:
        """A conversation by id (or by name, as Slack accepts for posting)."""
        key = channel_id or ""
        found = self.channels.get(key)
        if found is None:
            name = key.removeprefix("#")
            found = next((c for c in self.channels.values() if c.name == name), None)
        if found is None:
            raise ApiError("channel_not_found")
        return found

    def dm_with(self, user_id: str) -> Channel:
        """The bot's DM with `user_id`, opened on first use (D + the user id's tail)."""
        dm_id = "D" + user_id[1:]
        if dm_id not in self.channels:
            self.channels[dm_id] = Channel(
                id=dm_id, name=dm_id, members=[user_id, self.bot_user_id], is_im=True, user=user_id
            )
        return self.channels[dm_id]

    def dm_target(self, user_id: str) -> Channel:
        """The DM to post to for a user id, with Slack's refusals. A deactivated person's
        DM takes the message without an error, as Slack's does: nobody will read it."""
        user = self.user(user_id)
        if user.is_bot:
            raise ApiError("cannot_dm_bot")
        return self.dm_with(user_id)

    def post_target(self, channel_id: str | None) -> Channel:
        """Where chat.postMessage goes: a conversation the bot is in, or a user's DM."""
        if channel_id and channel_id[0] in "UW" and channel_id not in self.channels:
            return self.dm_target(channel_id)
        channel = self.channel(channel_id)
        if channel.is_im and channel.user is not None:
            self.dm_target(channel.user)
        if channel.is_archived:
            raise ApiError("is_archived")
        if self.bot_user_id not in channel.members:
            raise ApiError("not_in_channel")
        return channel

    def conversation_id(self, channel_or_user: str) -> str:
        """Resolve a user id to its DM id; other ids are returned unchanged."""
        if channel_or_user[:1] in ("U", "W") and channel_or_user not in self.channels:
            return "D" + channel_or_user[1:]
        return channel_or_user

    # -- content --------------------------------------------------------------

    def next_ts(self) -> str:
        """A message ts from the clock, strictly increasing."""
        now = int(self.clock().timestamp() * 1_000_000)
        self._last_us = max(now, self._last_us + 1)
        seconds, micros = divmod(self._last_us, 1_000_000)
        return f"{seconds}.{micros:06d}"

    def bot_message(self, ts: str, text: str) -> dict[str, Any]:
        return {
            "type": "message",
            "text": text,
            "user": self.bot_user_id,
            "bot_id": self.bot_id,
            "app_id": self.app_id,
            "team": self.team_id,
            "ts": ts,
            "bot_profile": {
                "id": self.bot_id,
                "app_id": self.app_id,
                "name": "coebot",
                "team_id": self.team_id,
                "deleted": False,
            },
        }

    def find_message(self, channel_id: str, ts: str | None) -> dict[str, Any]:
        for message in self.messages.get(channel_id, []):
            if message["ts"] == ts:
                return message
        raise ApiError("message_not_found")

    def note_reply(self, channel_id: str, thread_ts: str, reply_ts: str) -> None:
        """Count a reply on its thread's parent (reply_count, latest_reply), if it exists."""
        try:
            parent = self.find_message(channel_id, thread_ts)
        except ApiError:
            return
        parent.setdefault("thread_ts", thread_ts)
        parent["reply_count"] = int(parent.get("reply_count", 0)) + 1
        parent["latest_reply"] = reply_ts

    # -- triggers and views ---------------------------------------------------

    def issue_trigger(self) -> str:
        trigger_id = (
            f"{secrets.randbelow(10**11)}.{secrets.randbelow(10**9)}.{secrets.token_hex(16)}"
        )
        self.triggers[trigger_id] = self.clock()
        return trigger_id

    def exchange_trigger(self, trigger_id: str | None) -> None:
        """Use up a trigger_id: unknown, reused or older than 3 s is refused."""
        key = trigger_id or ""
        issued = self.triggers.get(key)
        if issued is None:
            raise ApiError("invalid_trigger_id")
        if key in self.used_triggers:
            raise ApiError("exchanged_trigger_id")
        if self.clock() - issued > TRIGGER_TTL:
            raise ApiError("expired_trigger_id")
        self.used_triggers.add(key)

    def view_hash(self) -> str:
        return f"{int(self.clock().timestamp())}.{secrets.token_hex(4)}"


Handler = Callable[[Workspace, Args], dict[str, Any]]
"""A Web API method: answer body without ``ok``, or `ApiError`."""
