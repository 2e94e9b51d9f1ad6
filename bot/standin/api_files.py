"""Slack's external file upload, as slack_sdk's ``files_upload_v2`` drives it.

1. ``files.getUploadURLExternal`` (`filename`, `length`; optional `alt_txt`,
   `snippet_type`) reserves a file and answers ``{"upload_url", "file_id"}``. The upload URL
   is served by the stand-in itself (``POST /upload/v1/{ticket}``).
2. The bytes are POSTed to the upload URL, raw or as multipart/form-data (slack_sdk sends
   them raw). It answers 200 ``OK - <bytes>`` (text/plain) once; an unknown or used URL
   answers 404. A size other than the declared `length` is accepted and noted
   (`SlackFile.length_mismatch`, and a warning in the log).
3. ``files.completeUploadExternal`` (`files`: a JSON list of ``{"id", "title"}``;
   `channel_id` or `channels`; `initial_comment`; `thread_ts`; `blocks`) finishes the
   upload, once per file, and answers ``{"files": [<file object>, ...]}``. Named
   conversations get one message carrying every file, stored like a chat.postMessage post
   and refused by the same rules (`Workspace.post_target`).

Errors, as Slack's method pages list them: getUploadURLExternal answers `invalid_arguments`
(a missing `filename` or `length`, or a `length` that is not a whole number),
`missing_argument` (`length` 0), `alt_txt_too_large` (over 1000 characters) and
`snippet_too_large` (a snippet over 1 MB); completeUploadExternal answers
`invalid_arguments` (no `files` list of ids), `file_not_found` (an id never handed out,
never uploaded, or already completed), `channels_limit_exceeded` (over 100), the posting
refusals (`channel_not_found`, `is_archived`, `not_in_channel`) and `invalid_blocks`.
"""

from __future__ import annotations

import logging
import mimetypes
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote

from aiohttp import BodyPartReader, web

from .blockkit import check_message
from .faults import FaultBook
from .model import ApiError, Args, Channel, SlackFile
from .workspace import Handler, Workspace

logger = logging.getLogger(__name__)

UPLOAD_PATH = "upload/v1/"  # as Slack's https://files.slack.com/upload/v1/...
ALT_TXT_MAX = 1000
SNIPPET_MAX_BYTES = 1024 * 1024
CHANNELS_MAX = 100
UPLOAD_FAULTS = "file_upload"  # the `FakeSlack.fail` key for POSTs to upload URLs


@dataclass(frozen=True)
class UploadPost:
    """One POST to an upload URL (accepted or not)."""

    url: str
    file_id: str | None
    size: int
    at: datetime
    status: int
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == 200


def _invalid_arguments(problems: list[str]) -> ApiError:
    messages = [f"[ERROR] {p}" for p in problems]
    return ApiError("invalid_arguments", response_metadata={"messages": messages})


def _length(args: Args) -> int | None:
    """The declared `length`: None when missing; `invalid_arguments` unless a whole number
    of bytes; Slack's `missing_argument` for 0 ("Typically only occurs when the `length`
    provided is 0")."""
    raw = args.get("length")
    if raw is None or raw == "":
        return None
    if isinstance(raw, bool):
        raise _invalid_arguments(["invalid value for field: length"])
    try:
        length = int(str(raw).strip())
    except ValueError:
        raise _invalid_arguments(["invalid value for field: length"]) from None
    if length < 0:
        raise _invalid_arguments(["invalid value for field: length"])
    if length == 0:
        raise ApiError("missing_argument")
    return length


def get_upload_url_external(ws: Workspace, args: Args, base_url: str) -> dict[str, Any]:
    """files.getUploadURLExternal: reserve a file; its upload URL is under `base_url`."""
    filename = args.get_str("filename")
    length = _length(args)
    if filename is None or length is None:
        fields = [k for k, v in (("filename", filename), ("length", length)) if v is None]
        raise _invalid_arguments([f"missing required field: {k}" for k in fields])
    alt_txt = args.get_str("alt_txt")
    if alt_txt is not None and len(alt_txt) > ALT_TXT_MAX:
        raise ApiError("alt_txt_too_large")
    snippet_type = args.get_str("snippet_type")
    if snippet_type is not None and length > SNIPPET_MAX_BYTES:
        raise ApiError("snippet_too_large")
    file_id = "F" + secrets.token_hex(5).upper()
    ticket = secrets.token_urlsafe(16)
    ws.files[file_id] = SlackFile(
        id=file_id,
        name=filename,
        length=length,
        created=int(ws.clock().timestamp()),
        user=ws.bot_user_id,
        alt_txt=alt_txt,
        snippet_type=snippet_type,
    )
    ws.upload_tickets[ticket] = file_id
    return {"upload_url": f"{base_url}{UPLOAD_PATH}{ticket}", "file_id": file_id}


def _kind(file: SlackFile) -> tuple[str, str]:
    """(filetype, mimetype), from `snippet_type` or the file name's extension."""
    if file.snippet_type is not None:
        return file.snippet_type, "text/plain"
    extension = file.name.rpartition(".")[2].lower() if "." in file.name else ""
    mimetype = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
    return extension or "binary", mimetype


def file_json(ws: Workspace, file: SlackFile) -> dict[str, Any]:
    """A Slack file object (https://docs.slack.dev/reference/objects/file-object)."""
    filetype, mimetype = _kind(file)
    shared = [ws.channels[c] for c in file.channels if c in ws.channels]
    public = [c.id for c in shared if not c.is_private and not c.is_im]
    name = quote(file.name)
    data: dict[str, Any] = {
        "id": file.id,
        "created": file.created,
        "timestamp": file.created,
        "name": file.name,
        "title": file.title if file.title is not None else file.name,
        "mimetype": mimetype,
        "filetype": filetype,
        "pretty_type": filetype.upper(),
        "user": file.user,
        "user_team": ws.team_id,
        "editable": file.snippet_type is not None,
        "size": file.size,
        "mode": "snippet" if file.snippet_type is not None else "hosted",
        "is_external": False,
        "external_type": "",
        "is_public": bool(public),
        "public_url_shared": False,
        "display_as_bot": False,
        "username": "",
        "url_private": f"https://files.slack.com/files-pri/{ws.team_id}-{file.id}/{name}",
        "url_private_download": (
            f"https://files.slack.com/files-pri/{ws.team_id}-{file.id}/download/{name}"
        ),
        "permalink": f"https://{ws.team_domain}.slack.com/files/{file.user}/{file.id}/{name}",
        "permalink_public": f"https://slack-files.com/{ws.team_id}-{file.id}",
        "channels": public,
        "groups": [c.id for c in shared if c.is_private],
        "ims": [c.id for c in shared if c.is_im],
        "comments_count": 0,
        "has_rich_preview": False,
        "file_access": "visible",
    }
    if file.alt_txt is not None:
        data["alt_txt"] = file.alt_txt
    return data


def _files_arg(ws: Workspace, args: Args) -> list[tuple[SlackFile, str | None]]:
    """The `files` list: each uploaded, not yet completed file with its title."""
    entries = args.get_json("files", "invalid_arguments")
    if entries is None:
        raise _invalid_arguments(["missing required field: files"])
    if (
        not isinstance(entries, list)
        or not entries
        or not all(isinstance(e, dict) and isinstance(e.get("id"), str) for e in entries)
    ):
        raise _invalid_arguments(["files must be a list of objects with an id"])
    found: list[tuple[SlackFile, str | None]] = []
    for entry in entries:
        file = ws.files.get(entry["id"])
        if file is None or file.content is None or file.completed:
            raise ApiError("file_not_found")
        title = entry.get("title")
        found.append((file, title if isinstance(title, str) and title else None))
    return found


def _targets(ws: Workspace, args: Args) -> list[Channel]:
    """The conversations named by `channel_id` and `channels` (channel or user ids), each
    checked as chat.postMessage checks its `channel`."""
    named = [args.get_str("channel_id") or ""]
    named += (args.get_str("channels") or "").split(",")
    wanted = list(dict.fromkeys(n.strip() for n in named if n.strip()))
    if len(wanted) > CHANNELS_MAX:
        raise ApiError("channels_limit_exceeded")
    return [ws.post_target(n) for n in wanted]


def complete_upload_external(ws: Workspace, args: Args) -> dict[str, Any]:
    """files.completeUploadExternal: title the files, then share them where named."""
    files = _files_arg(ws, args)
    targets = _targets(ws, args)
    comment = args.get_str("initial_comment")
    blocks = None if comment is not None else args.get_json("blocks", "invalid_blocks")
    problem = check_message(comment, blocks)
    if problem is not None:
        raise ApiError(problem[0])
    thread_ts = args.get_str("thread_ts")
    for file, title in files:
        file.title = title if title is not None else file.name
        file.completed = True
    posts: list[tuple[Channel, dict[str, Any]]] = []
    for channel in targets:
        message = ws.bot_message(ws.next_ts(), comment or "")
        for file, _title in files:
            file.channels.append(channel.id)
            file.shares[channel.id] = message["ts"]
        posts.append((channel, message))
    shown = [file_json(ws, file) for file, _title in files]
    for channel, message in posts:
        message["files"] = [dict(f) for f in shown]
        message["upload"] = True
        message["display_as_bot"] = False
        if blocks is not None:
            message["blocks"] = blocks
        if thread_ts is not None:
            message["thread_ts"] = thread_ts
            ws.note_reply(channel.id, thread_ts, message["ts"])
        ws.messages.setdefault(channel.id, []).append(message)
    return {"files": shown}


def methods(base_url: Callable[[], str]) -> dict[str, Handler]:
    """The two Web API methods; upload URLs are made under `base_url()` (known once the
    server listens)."""

    def get_upload_url(ws: Workspace, args: Args) -> dict[str, Any]:
        return get_upload_url_external(ws, args, base_url())

    return {
        "files.getUploadURLExternal": get_upload_url,
        "files.completeUploadExternal": complete_upload_external,
    }


async def _received(request: web.Request) -> bytes:
    """The uploaded bytes: the first file part of a multipart body, else the raw body."""
    if request.content_type.startswith("multipart/"):
        reader = await request.multipart()
        async for part in reader:
            if isinstance(part, BodyPartReader) and (
                part.filename is not None or part.name in ("file", "filename")
            ):
                return bytes(await part.read(decode=False))
        return b""
    return await request.read()


async def receive_upload(
    ws: Workspace, faults: FaultBook, request: web.Request, now: datetime
) -> tuple[web.Response, UploadPost]:
    """A POST to an upload URL: 200 ``OK - <bytes>`` once; 404 for an unknown or used URL;
    an injected `UPLOAD_FAULTS` fault answers its status."""
    ticket = request.match_info["ticket"]
    url = str(request.url.with_query(None))
    content = await _received(request)
    file_id = ws.upload_tickets.get(ticket)
    canned = faults.take(UPLOAD_FAULTS)
    if canned is not None:
        status, error = canned[0], str(canned[1].get("error"))
    elif file_id is None:
        status = 404
        error = "used_url" if ticket in ws.used_upload_tickets else "invalid_url"
    else:
        status, error = 200, None
        del ws.upload_tickets[ticket]
        ws.used_upload_tickets.add(ticket)
        file = ws.files[file_id]
        file.content = content
        if file.length_mismatch:
            logger.warning(
                "upload of %s (%s): %d bytes received, %d declared",
                file.id,
                file.name,
                len(content),
                file.length,
            )
    post = UploadPost(url, file_id, len(content), now, status, error)
    text = f"OK - {len(content)}" if error is None else error
    return web.Response(status=status, text=text, content_type="text/plain"), post
