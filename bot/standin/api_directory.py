"""Read-side Web API methods: auth.test, users.*, conversations.*, usergroups.users.list.

Each handler takes the workspace and the call's arguments and returns the answer body
without ``ok`` (added by the server), or raises `ApiError` with Slack's error name.
"""

from __future__ import annotations

from typing import Any

from .model import ApiError, Args, Channel, paginate
from .workspace import Handler, Workspace


def auth_test(ws: Workspace, args: Args) -> dict[str, Any]:
    return {
        "url": f"https://{ws.team_domain}.slack.com/",
        "team": "CoE Stand-in",
        "user": ws.users[ws.bot_user_id].name if ws.bot_user_id in ws.users else "coebot",
        "team_id": ws.team_id,
        "user_id": ws.bot_user_id,
        "bot_id": ws.bot_id,
        "is_enterprise_install": False,
    }


def _user_json(ws: Workspace, user_id: str, args: Args) -> dict[str, Any]:
    data = ws.user(user_id).to_api(ws.team_id, ws.clock())
    if args.get_bool("include_locale"):
        data["locale"] = "en-US"
    return data


def users_info(ws: Workspace, args: Args) -> dict[str, Any]:
    return {"user": _user_json(ws, args.need("user", "user_not_found"), args)}


def users_list(ws: Workspace, args: Args) -> dict[str, Any]:
    ids = sorted(ws.users)
    page, next_cursor = paginate(ids, str, "user", args.get_str("cursor"), args.get_int("limit", 0))
    return {
        "members": [_user_json(ws, user_id, args) for user_id in page],
        "cache_ts": int(ws.clock().timestamp()),
        "response_metadata": {"next_cursor": next_cursor},
    }


def users_lookup_by_email(ws: Workspace, args: Args) -> dict[str, Any]:
    email = args.need("email", "users_not_found").lower()
    for user in ws.users.values():
        if user.email is not None and user.email.lower() == email:
            return {"user": user.to_api(ws.team_id, ws.clock())}
    raise ApiError("users_not_found")


def _dm_user(ws: Workspace, users_arg: str | None) -> str:
    """The one person a conversations.open `users` list names (the bot aside)."""
    users = [u.strip() for u in (users_arg or "").split(",") if u.strip()]
    users = [u for u in users if u != ws.bot_user_id]
    if not users:
        raise ApiError("not_enough_users")
    if len(users) > 1:
        raise ApiError("too_many_users")
    user = ws.user(users[0])
    if user.deleted:
        raise ApiError("user_disabled")
    if user.is_bot:
        raise ApiError("cannot_dm_bot")
    return user.id


def conversations_open(ws: Workspace, args: Args) -> dict[str, Any]:
    channel_id = args.get_str("channel")
    if channel_id is not None:
        return {"channel": _open_channel_json(ws, ws.channel(channel_id), args)}
    user_id = _dm_user(ws, args.get_str("users"))
    already = ws.conversation_id(user_id) in ws.channels
    channel = ws.dm_with(user_id)
    extra: dict[str, Any] = {"no_op": True, "already_open": True} if already else {}
    return {**extra, "channel": _open_channel_json(ws, channel, args)}


def _open_channel_json(ws: Workspace, channel: Channel, args: Args) -> dict[str, Any]:
    if args.get_bool("return_im"):
        return channel.to_api(ws.bot_user_id)
    return {"id": channel.id}


def conversations_info(ws: Workspace, args: Args) -> dict[str, Any]:
    channel = ws.channel(args.need("channel", "channel_not_found"))
    return {"channel": channel.to_api(ws.bot_user_id)}


def conversations_members(ws: Workspace, args: Args) -> dict[str, Any]:
    channel = ws.channel(args.need("channel", "channel_not_found"))
    page, next_cursor = paginate(
        channel.members, str, "user", args.get_str("cursor"), args.get_int("limit", 100)
    )
    return {"members": page, "response_metadata": {"next_cursor": next_cursor}}


def _history_view(message: dict[str, Any], with_metadata: bool) -> dict[str, Any]:
    shown = {k: v for k, v in message.items() if k != "metadata"}
    if with_metadata and "metadata" in message:
        shown["metadata"] = message["metadata"]
    return shown


def _ts_bound(args: Args, key: str) -> float | None:
    value = args.get_str(key)
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        raise ApiError(f"invalid_ts_{key}") from None


def _in_window(ts: float, latest: float | None, oldest: float | None, inclusive: bool) -> bool:
    if latest is not None and (ts > latest or (ts == latest and not inclusive)):
        return False
    return not (oldest is not None and (ts < oldest or (ts == oldest and not inclusive)))


def conversations_replies(ws: Workspace, args: Args) -> dict[str, Any]:
    """A thread: its parent and replies, oldest first (`ts` names the parent)."""
    channel = ws.channel(args.need("channel", "channel_not_found"))
    if ws.bot_user_id not in channel.members:
        raise ApiError("not_in_channel")
    parent = args.need("ts", "thread_not_found")
    thread = [
        m
        for m in ws.messages.get(channel.id, [])
        if m["ts"] == parent or m.get("thread_ts") == parent
    ]
    if not thread:
        raise ApiError("thread_not_found")
    limit = min(args.get_int("limit", 100), 999)
    with_metadata = args.get_bool("include_all_metadata")
    return {
        "messages": [_history_view(m, with_metadata) for m in thread[:limit]],
        "has_more": len(thread) > limit,
        "response_metadata": {"next_cursor": ""},
    }


def conversations_history(ws: Workspace, args: Args) -> dict[str, Any]:
    channel = ws.channel(args.need("channel", "channel_not_found"))
    if ws.bot_user_id not in channel.members:
        raise ApiError("not_in_channel")
    top_level = [
        m
        for m in reversed(ws.messages.get(channel.id, []))
        if m.get("thread_ts") in (None, m["ts"]) or m.get("subtype") == "thread_broadcast"
    ]
    bounds = (_ts_bound(args, "latest"), _ts_bound(args, "oldest"), args.get_bool("inclusive"))
    window = [m for m in top_level if _in_window(float(m["ts"]), *bounds)]
    limit = min(args.get_int("limit", 100), 999)
    page, next_cursor = paginate(
        window, lambda m: str(m["ts"]), "next_ts", args.get_str("cursor"), limit
    )
    with_metadata = args.get_bool("include_all_metadata")
    return {
        "messages": [_history_view(m, with_metadata) for m in page],
        "has_more": bool(next_cursor),
        "pin_count": 0,
        "response_metadata": {"next_cursor": next_cursor},
    }


def usergroups_users_list(ws: Workspace, args: Args) -> dict[str, Any]:
    group = ws.usergroups.get(args.need("usergroup", "no_such_subteam"))
    if group is None:
        raise ApiError("no_such_subteam")
    return {"users": list(group.users)}


METHODS: dict[str, Handler] = {
    "auth.test": auth_test,
    "users.info": users_info,
    "users.list": users_list,
    "users.lookupByEmail": users_lookup_by_email,
    "conversations.open": conversations_open,
    "conversations.info": conversations_info,
    "conversations.members": conversations_members,
    "conversations.history": conversations_history,
    "conversations.replies": conversations_replies,
    "usergroups.users.list": usergroups_users_list,
}
