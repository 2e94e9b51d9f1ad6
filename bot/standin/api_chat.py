"""Write-side Web API methods: chat.* and views.*, with Slack's Block Kit refusals.

Messages land in `Workspace.messages` (per conversation id), ephemeral messages in
`Workspace.ephemerals`, modals in `Workspace.views` and Home tabs in `Workspace.home_views`.
"""

from __future__ import annotations

import secrets
from typing import Any

from .blockkit import check_message, validate_view
from .model import ApiError, Args
from .workspace import Handler, Workspace


def _details(problems: list[str]) -> dict[str, Any]:
    if not problems:
        return {}
    return {
        "errors": problems,
        "response_metadata": {"messages": [f"[ERROR] {p}" for p in problems]},
    }


def _content(args: Args, *, required: bool) -> dict[str, Any]:
    """The text/blocks/attachments of a message, checked as Slack checks them."""
    text = args.get_str("text")
    blocks = args.get_json("blocks", "invalid_blocks_format")
    attachments = args.get_json("attachments", "invalid_attachments")
    if required and not text and not blocks and not attachments:
        raise ApiError("no_text")
    problem = check_message(text, blocks)
    if problem is not None:
        error, problems = problem
        raise ApiError(error, **_details(problems))
    content: dict[str, Any] = {}
    if text is not None or required:
        content["text"] = text or ""
    if blocks is not None:
        content["blocks"] = blocks
    if attachments:
        content["attachments"] = attachments
    return content


def _metadata(args: Args) -> dict[str, Any] | None:
    meta = args.get_json("metadata", "invalid_metadata_format")
    if meta is None:
        return None
    payload = meta.get("event_payload", {}) if isinstance(meta, dict) else None
    if not isinstance(meta, dict) or not isinstance(meta.get("event_type"), str):
        raise ApiError("invalid_metadata_format")
    if not isinstance(payload, dict):
        raise ApiError("invalid_metadata_format")
    return {"event_type": meta["event_type"], "event_payload": payload}


def chat_post_message(ws: Workspace, args: Args) -> dict[str, Any]:
    channel = ws.post_target(args.get_str("channel"))
    content = _content(args, required=True)
    metadata = _metadata(args)
    message = ws.bot_message(ws.next_ts(), "")
    message.update(content)
    thread_ts = args.get_str("thread_ts")
    if thread_ts is not None:
        message["thread_ts"] = thread_ts
        if args.get_bool("reply_broadcast"):
            message["subtype"] = "thread_broadcast"
        ws.note_reply(channel.id, thread_ts, message["ts"])
    if metadata is not None:
        message["metadata"] = metadata
    ws.messages.setdefault(channel.id, []).append(message)
    return {"channel": channel.id, "ts": message["ts"], "message": dict(message)}


def chat_post_ephemeral(ws: Workspace, args: Args) -> dict[str, Any]:
    user = ws.user(args.get_str("user"))
    channel = ws.post_target(args.get_str("channel"))
    if user.id not in channel.members:
        raise ApiError("user_not_in_channel")
    content = _content(args, required=True)
    ts = ws.next_ts()
    record = {"channel": channel.id, "user": user.id, "message_ts": ts, **content}
    if args.get_str("thread_ts") is not None:
        record["thread_ts"] = args.get_str("thread_ts")
    ws.ephemerals.append(record)
    return {"message_ts": ts}


def chat_update(ws: Workspace, args: Args) -> dict[str, Any]:
    channel = ws.channel(args.need("channel", "channel_not_found"))
    message = ws.find_message(channel.id, args.get_str("ts"))
    if message.get("user") != ws.bot_user_id:
        raise ApiError("cant_update_message")
    content = _content(args, required=False)
    metadata = _metadata(args)
    message.update(content)
    if metadata is not None:
        message["metadata"] = metadata
    message["edited"] = {"user": ws.bot_user_id, "ts": ws.next_ts()}
    return {
        "channel": channel.id,
        "ts": message["ts"],
        "text": message.get("text", ""),
        "message": {k: v for k, v in message.items() if k != "metadata"},
    }


def chat_delete(ws: Workspace, args: Args) -> dict[str, Any]:
    channel = ws.channel(args.need("channel", "channel_not_found"))
    message = ws.find_message(channel.id, args.get_str("ts"))
    if message.get("user") != ws.bot_user_id:
        raise ApiError("cant_delete_message")
    ws.messages[channel.id].remove(message)
    return {"channel": channel.id, "ts": message["ts"]}


def chat_get_permalink(ws: Workspace, args: Args) -> dict[str, Any]:
    channel = ws.channel(args.need("channel", "channel_not_found"))
    message = ws.find_message(channel.id, args.get_str("message_ts"))
    stamp = str(message["ts"]).replace(".", "")
    permalink = f"https://{ws.team_domain}.slack.com/archives/{channel.id}/p{stamp}"
    return {"channel": channel.id, "permalink": permalink}


def _invalid_arguments(problems: list[str]) -> ApiError:
    messages = [f"[ERROR] {p}" for p in problems]
    return ApiError("invalid_arguments", response_metadata={"messages": messages})


def _view_arg(args: Args, kind: str | None) -> dict[str, Any]:
    """The `view` argument, validated; views.* answer invalid_arguments like Slack."""
    view = args.get_json("view", "invalid_arguments")
    if view is None:
        raise _invalid_arguments(["missing required field: view"])
    problems = validate_view(view)
    if not problems and kind is not None and view.get("type") != kind:
        problems = ["must be a valid enum value [json-pointer:/view/type]"]
    if problems:
        raise _invalid_arguments(problems)
    assert isinstance(view, dict)
    return view


def _store_view(
    ws: Workspace,
    view: dict[str, Any],
    *,
    view_id: str | None = None,
    root: str | None = None,
    previous: str | None = None,
) -> dict[str, Any]:
    vid = view_id or "V" + secrets.token_hex(5).upper()
    stored = {
        "id": vid,
        "team_id": ws.team_id,
        "type": view["type"],
        "blocks": view.get("blocks", []),
        "private_metadata": view.get("private_metadata", ""),
        "callback_id": view.get("callback_id", ""),
        "state": {"values": {}},
        "hash": ws.view_hash(),
        "title": view.get("title"),
        "clear_on_close": bool(view.get("clear_on_close", False)),
        "notify_on_close": bool(view.get("notify_on_close", False)),
        "close": view.get("close"),
        "submit": view.get("submit"),
        "previous_view_id": previous,
        "root_view_id": root or vid,
        "app_id": ws.app_id,
        "external_id": view.get("external_id", ""),
        "app_installed_team_id": ws.team_id,
        "bot_id": ws.bot_id,
    }
    ws.views[vid] = stored
    return stored


def _exchange(ws: Workspace, args: Args) -> None:
    trigger_id = args.get_str("trigger_id") or args.get_str("interactivity_pointer")
    if trigger_id is None:
        raise _invalid_arguments(["missing required field: trigger_id"])
    ws.exchange_trigger(trigger_id)


def views_open(ws: Workspace, args: Args) -> dict[str, Any]:
    view = _view_arg(args, "modal")
    _exchange(ws, args)
    return {"view": _store_view(ws, view)}


def views_push(ws: Workspace, args: Args) -> dict[str, Any]:
    view = _view_arg(args, "modal")
    _exchange(ws, args)
    return {"view": _store_view(ws, view)}


def _existing_view(ws: Workspace, args: Args) -> dict[str, Any]:
    view_id, external_id = args.get_str("view_id"), args.get_str("external_id")
    for stored in ws.views.values():
        if (view_id and stored["id"] == view_id) or (
            external_id and stored["external_id"] == external_id
        ):
            return stored
    raise ApiError("not_found")


def views_update(ws: Workspace, args: Args) -> dict[str, Any]:
    view = _view_arg(args, None)
    existing = _existing_view(ws, args)
    expected = args.get_str("hash")
    if expected is not None and expected != existing["hash"]:
        raise ApiError("hash_conflict")
    stored = _store_view(
        ws,
        view,
        view_id=existing["id"],
        root=existing["root_view_id"],
        previous=existing["previous_view_id"],
    )
    return {"view": stored}


def views_publish(ws: Workspace, args: Args) -> dict[str, Any]:
    user = ws.user(args.get_str("user_id"))
    view = _view_arg(args, "home")
    existing = ws.home_views.get(user.id)
    expected = args.get_str("hash")
    if existing is not None and expected is not None and expected != existing["hash"]:
        raise ApiError("hash_conflict")
    stored = _store_view(ws, view, view_id=existing["id"] if existing else None)
    ws.home_views[user.id] = stored
    return {"view": stored}


METHODS: dict[str, Handler] = {
    "chat.postMessage": chat_post_message,
    "chat.postEphemeral": chat_post_ephemeral,
    "chat.update": chat_update,
    "chat.delete": chat_delete,
    "chat.getPermalink": chat_get_permalink,
    "views.open": views_open,
    "views.push": views_push,
    "views.update": views_update,
    "views.publish": views_publish,
}
