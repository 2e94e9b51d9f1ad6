"""Value types of the stand-in: call arguments, API errors, people, conversations.

Also Slack-style cursor pagination, shared by users.list, conversations.members and
conversations.history.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

T = TypeVar("T")
CREATED = 1_700_000_000


class ApiError(Exception):
    """A Web API failure: answered as {"ok": false, "error": error, **extra}."""

    def __init__(self, error: str, **extra: Any) -> None:
        super().__init__(error)
        self.error = error
        self.extra = extra


class Args:
    """Typed access to the merged query/form/JSON arguments of one call."""

    def __init__(self, raw: dict[str, Any]) -> None:
        self.raw = raw

    def get(self, key: str) -> Any:
        return self.raw.get(key)

    def get_str(self, key: str) -> str | None:
        value = self.raw.get(key)
        if value is None or value == "":
            return None
        return str(value)

    def need(self, key: str, error: str) -> str:
        value = self.get_str(key)
        if value is None:
            raise ApiError(error)
        return value

    def get_bool(self, key: str) -> bool:
        value = self.raw.get(key)
        if isinstance(value, str):
            return value.lower() in ("1", "true", "yes")
        return bool(value)

    def get_json(self, key: str, error: str) -> Any:
        """A JSON-valued argument, decoded when it came form-encoded as a string."""
        value = self.raw.get(key)
        if not isinstance(value, str):
            return value
        if value == "":
            return None
        try:
            return json.loads(value)
        except ValueError:
            raise ApiError(error) from None

    def get_int(self, key: str, default: int) -> int:
        value = self.raw.get(key)
        if value is None or value == "":
            return default
        try:
            return int(value)
        except (TypeError, ValueError):
            raise ApiError("invalid_arguments") from None


AVATAR_URL = "https://avatars.slack-edge.example/standin"
AVATAR_SIZES = (24, 32, 48, 72, 192, 512)


@dataclass
class User:
    id: str
    name: str
    real_name: str = ""
    tz: str = "Europe/Paris"
    tz_offset: int | None = None
    deleted: bool = False
    is_bot: bool = False
    email: str | None = None
    is_admin: bool = False
    is_restricted: bool = False  # a guest
    updated: int = CREATED

    def to_api(self, team_id: str, now: datetime) -> dict[str, Any]:
        local = now.astimezone(ZoneInfo(self.tz))
        offset = local.utcoffset() or timedelta(0)
        profile: dict[str, Any] = {
            "real_name": self.real_name,
            "real_name_normalized": self.real_name,
            "display_name": self.name,
            "display_name_normalized": self.name,
            "team": team_id,
            "status_text": "",
            "status_emoji": "",
            "avatar_hash": "g" + hashlib.sha1(self.id.encode()).hexdigest()[:11],
            # Slack: "only the image_* fields are guaranteed to be included" in a profile
            **{f"image_{size}": f"{AVATAR_URL}/{self.id}-{size}.png" for size in AVATAR_SIZES},
            "image_original": f"{AVATAR_URL}/{self.id}-original.png",
        }
        if self.email is not None:
            profile["email"] = self.email
        return {
            "id": self.id,
            "team_id": team_id,
            "name": self.name,
            "deleted": self.deleted,
            "color": "9f69e7",
            "real_name": self.real_name,
            "tz": self.tz,
            "tz_label": local.tzname() or self.tz,
            "tz_offset": self.tz_offset
            if self.tz_offset is not None
            else int(offset.total_seconds()),
            "profile": profile,
            "is_admin": self.is_admin,
            "is_owner": False,
            "is_primary_owner": False,
            "is_restricted": self.is_restricted,
            "is_ultra_restricted": False,
            "is_bot": self.is_bot,
            "is_app_user": False,
            "updated": self.updated,
        }


@dataclass
class Channel:
    id: str
    name: str
    members: list[str] = field(default_factory=list)
    is_archived: bool = False
    is_private: bool = False
    is_im: bool = False
    user: str | None = None
    is_general: bool = False

    def to_api(self, bot_user_id: str) -> dict[str, Any]:
        if self.is_im:
            return {
                "id": self.id,
                "created": CREATED,
                "is_im": True,
                "is_org_shared": False,
                "user": self.user,
                "is_user_deleted": False,
                "priority": 0,
            }
        return {
            "id": self.id,
            "name": self.name,
            "name_normalized": self.name,
            "is_channel": not self.is_private,
            "is_group": False,
            "is_im": False,
            "is_mpim": False,
            "is_private": self.is_private,
            "is_archived": self.is_archived,
            "is_general": self.is_general,
            "is_member": bot_user_id in self.members,
            "is_shared": False,
            "is_ext_shared": False,
            "is_org_shared": False,
            "created": CREATED,
            "creator": "U0ADMIN",
            "topic": {"value": "", "creator": "", "last_set": 0},
            "purpose": {"value": "", "creator": "", "last_set": 0},
            "num_members": len(self.members),
        }


@dataclass
class SlackFile:
    """A file in the stand-in: reserved by files.getUploadURLExternal, its bytes POSTed to
    the upload URL, then shared (or left private) by files.completeUploadExternal."""

    id: str
    name: str  # the `filename` given to files.getUploadURLExternal
    length: int  # the `length` declared there; the bytes received may differ
    created: int
    user: str  # who reserved it (the bot)
    alt_txt: str | None = None
    snippet_type: str | None = None
    content: bytes | None = None  # None until the upload URL has received the bytes
    title: str | None = None  # set by files.completeUploadExternal
    completed: bool = False  # files.completeUploadExternal can be called once per file
    channels: list[str] = field(default_factory=list)  # conversations it was shared to
    shares: dict[str, str] = field(default_factory=dict)  # conversation id -> message ts

    @property
    def size(self) -> int:
        """Bytes received (0 before the upload)."""
        return len(self.content) if self.content is not None else 0

    @property
    def length_mismatch(self) -> bool:
        """True when the bytes received are not the `length` declared."""
        return self.content is not None and len(self.content) != self.length

    @property
    def channel(self) -> str | None:
        """The first conversation it was shared to, if any."""
        return self.channels[0] if self.channels else None


@dataclass
class Usergroup:
    id: str
    handle: str
    users: list[str] = field(default_factory=list)
    name: str = ""


def encode_cursor(kind: str, key: str) -> str:
    return base64.b64encode(f"{kind}:{key}".encode()).decode()


def paginate(
    items: Sequence[T], key: Callable[[T], str], kind: str, cursor: str | None, limit: int
) -> tuple[list[T], str]:
    """Slice `items` Slack-style: the cursor names the first item of the page."""
    start = 0
    if cursor:
        try:
            wanted = base64.b64decode(cursor, validate=True).decode().removeprefix(f"{kind}:")
        except (binascii.Error, UnicodeDecodeError):
            raise ApiError("invalid_cursor") from None
        keys = [key(item) for item in items]
        if wanted not in keys:
            raise ApiError("invalid_cursor")
        start = keys.index(wanted)
    end = len(items) if limit <= 0 else start + limit
    page = list(items[start:end])
    next_cursor = encode_cursor(kind, key(items[end])) if end < len(items) else ""
    return page, next_cursor
