"""FakeSlack: an aiohttp server that answers the Slack Web API like Slack where it matters.

It serves ``/api/{method}`` (GET and POST; JSON, form and query arguments merged), the
``response_url`` endpoints and file upload URLs it hands out, and the Socket Mode
WebSocket. It records every call, lets tests inject faults and rate limits, and keeps a
small editable workspace.

    async with FakeSlack() as slack:
        client = AsyncWebClient(token=slack.bot_token, base_url=slack.api_url)
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from aiohttp import web

from . import api_chat, api_directory, api_files
from .api_files import UploadPost
from .faults import Answer, FaultBook
from .model import ApiError, Args, Channel, SlackFile, User, Usergroup
from .response_urls import ResponsePost, ResponseUrls
from .server import LocalServer
from .socket_mode import EnvelopeType, SocketModeServer
from .workspace import Clock, Handler, Workspace, utcnow

logger = logging.getLogger(__name__)

BOT_SCOPES = (
    "commands,chat:write,im:write,im:history,users:read,users:read.email,"
    "channels:read,groups:read,usergroups:read,files:write"
)
JSON_FIELDS = ("blocks", "attachments", "view", "metadata", "files")


@dataclass(frozen=True)
class RecordedCall:
    """One Web API call as the stand-in saw it (token removed from `args`)."""

    method: str
    args: dict[str, Any]
    token: str | None
    at: datetime
    status: int
    ok: bool
    error: str | None
    http_method: str = "POST"


class _BadRequest(Exception):
    def __init__(self, error: str) -> None:
        super().__init__(error)
        self.error = error


async def _read_args(request: web.Request) -> dict[str, Any]:
    """Query string, then the form or JSON body, merged as Slack does."""
    args: dict[str, Any] = dict(request.query)
    if request.method != "POST" or not request.can_read_body:
        return args
    if request.content_type == "application/json":
        try:
            body = json.loads(await request.text())
        except ValueError:
            raise _BadRequest("invalid_json") from None
        if not isinstance(body, dict):
            raise _BadRequest("invalid_json")
        args.update(body)
    else:
        form = await request.post()
        args.update({k: v for k, v in form.items() if isinstance(v, str)})
    return args


def _decoded(args: dict[str, Any]) -> dict[str, Any]:
    """`args` for the record: token dropped, JSON-valued fields decoded when possible."""
    shown = {k: v for k, v in args.items() if k != "token"}
    for key in JSON_FIELDS:
        if isinstance(shown.get(key), str):
            with contextlib.suppress(ValueError):
                shown[key] = json.loads(shown[key])
    return shown


def _token(request: web.Request, args: dict[str, Any]) -> str | None:
    """The call's token: the Bearer header, else a `token` argument."""
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer ") and header[7:].strip():
        return header[7:].strip()
    return str(args["token"]) if args.get("token") else None


class FakeSlack(LocalServer):
    """The Slack stand-in. Start it, point the app's API base URL at `api_url`."""

    name = "Slack stand-in"
    log_level = logging.INFO

    def __init__(
        self,
        *,
        bot_token: str = "xoxb-standin",
        app_token: str = "xapp-standin",
        team_id: str = "T0STANDIN",
        team_domain: str = "standin",
        bot_user_id: str = "U0BOT",
        bot_id: str = "B0BOT",
        app_id: str = "A0STANDIN",
        clock: Clock = utcnow,
        seed: bool = True,
        open_directory: bool = False,
    ) -> None:
        super().__init__()
        self.bot_token = bot_token
        self.app_token = app_token
        self.workspace = Workspace(
            team_id=team_id,
            team_domain=team_domain,
            bot_user_id=bot_user_id,
            bot_id=bot_id,
            app_id=app_id,
            clock=clock,
            open_directory=open_directory,
        )
        self.dead_token: str | None = None  # "token_revoked", "account_inactive", ...
        if seed:
            self.workspace.seed()
        self.calls: list[RecordedCall] = []
        self.upload_posts: list[UploadPost] = []  # every POST to an upload URL, oldest first
        self.faults = FaultBook()
        self.lost_answer_seconds = 3.0  # a "timeout" answer comes this late
        self.socket = SocketModeServer(app_id=app_id)
        self._handlers: dict[str, Handler] = {
            **api_directory.METHODS,
            **api_chat.METHODS,
            **api_files.methods(lambda: self.base_url),
            "apps.connections.open": self._connections_open,
        }
        self._response_urls = ResponseUrls(self._now, self.faults)
        self.app = self.make_app()

    # -- identity and lifecycle ---------------------------------------------------

    @property
    def team_id(self) -> str:
        return self.workspace.team_id

    @property
    def bot_user_id(self) -> str:
        return self.workspace.bot_user_id

    @property
    def app_id(self) -> str:
        return self.workspace.app_id

    @property
    def clock(self) -> Clock:
        return self.workspace.clock

    @clock.setter
    def clock(self, clock: Clock) -> None:
        self.workspace.clock = clock

    def _now(self) -> datetime:
        return self.workspace.clock()

    @property
    def base_url(self) -> str:
        return f"http://{self._host}:{self.port}/"

    @property
    def api_url(self) -> str:
        return f"{self.base_url}api/"

    def make_app(self) -> web.Application:
        app = web.Application()
        app.router.add_route("GET", "/api/{method}", self._handle_api)
        app.router.add_route("POST", "/api/{method}", self._handle_api)
        app.router.add_post("/response/{url_id}", self._response_urls.handle)
        app.router.add_post(f"/{api_files.UPLOAD_PATH}{{ticket}}", self._handle_upload)
        app.router.add_get("/socket-mode/{ticket}", self.socket.handle)
        app.on_shutdown.append(self._on_shutdown)
        return app

    async def _on_shutdown(self, _app: web.Application) -> None:
        await self.socket.close()

    # -- workspace ----------------------------------------------------------------

    def add_user(self, user_id: str, name: str, **fields: Any) -> User:
        """Add or replace a person (fields: real_name, tz, tz_offset, deleted, is_bot, email)."""
        return self.workspace.add_user(user_id, name, **fields)

    def add_channel(
        self, channel_id: str, name: str, members: Sequence[str] = (), **fields: Any
    ) -> Channel:
        """Add or replace a channel (fields: is_member, is_archived, is_private)."""
        return self.workspace.add_channel(channel_id, name, members, **fields)

    def add_usergroup(self, group_id: str, handle: str, users: Sequence[str] = ()) -> Usergroup:
        return self.workspace.add_usergroup(group_id, handle, users)

    def deactivate_user(self, user_id: str, *, deleted: bool = True) -> dict[str, Any]:
        """Deactivate (or, with `deleted=False`, reactivate) someone, as a workspace admin
        does; the `user_change` event Slack then sends (post it with `SlackSender.event`)."""
        user = self.workspace.user(user_id)
        user.deleted = deleted
        user.updated = max(user.updated + 1, int(self._now().timestamp()))
        return self.user_change_event(user_id)

    def user_change_event(self, user_id: str) -> dict[str, Any]:
        """The `user_change` event for someone as they are now
        (https://api.slack.com/events/user_change)."""
        now = self._now()
        return {
            "type": "user_change",
            "user": self.workspace.user(user_id).to_api(self.team_id, now),
            "cache_ts": int(now.timestamp()),
            "event_ts": f"{now.timestamp():.6f}",
        }

    def archive_channel(
        self, channel_id: str, *, by: str = "U0ADMIN", archived: bool = True
    ) -> dict[str, Any]:
        """Archive (or, with `archived=False`, unarchive) a channel, as a member does; the
        event Slack then sends: `channel_archive` / `channel_unarchive`, or `group_archive` /
        `group_unarchive` for a private channel (https://api.slack.com/events/channel_archive,
        https://api.slack.com/events/group_archive). Members stay members: a choice, since
        Slack's docs do not say (see docs/slack-contract.md)."""
        channel = self.workspace.channel(channel_id)
        channel.is_archived = archived
        kind = "group" if channel.is_private else "channel"
        event: dict[str, Any] = {
            "type": f"{kind}_{'archive' if archived else 'unarchive'}",
            "channel": channel.id,
            "event_ts": self.workspace.next_ts(),
        }
        if kind == "channel":
            event["user"] = by
        return event

    def remove_bot(self, channel_id: str, *, by: str = "U0ADMIN") -> dict[str, Any]:
        """Remove coe-bot from a channel (`/remove @coe-bot`); the `channel_left` (or, for a
        private channel, `group_left`) event Slack sends the bot
        (https://api.slack.com/events/channel_left)."""
        channel = self.workspace.channel(channel_id)
        if self.bot_user_id in channel.members:
            channel.members.remove(self.bot_user_id)
        return {
            "type": "group_left" if channel.is_private else "channel_left",
            "channel": channel.id,
            "actor_id": by,
            "event_ts": self.workspace.next_ts(),
        }

    def invite_bot(self, channel_id: str, *, by: str = "U0ADMIN") -> dict[str, Any]:
        """Invite coe-bot into a channel; the `member_joined_channel` event naming the bot
        (https://api.slack.com/events/member_joined_channel)."""
        channel = self.workspace.channel(channel_id)
        if self.bot_user_id not in channel.members:
            channel.members.append(self.bot_user_id)
        return {
            "type": "member_joined_channel",
            "user": self.bot_user_id,
            "channel": channel.id,
            "channel_type": "G" if channel.is_private else "C",
            "team": self.team_id,
            "inviter": by,
            "event_ts": self.workspace.next_ts(),
        }

    def kill_token(self, error: str | None = "token_revoked") -> None:
        """From now on every call with the bot token is refused with `error` (Slack's
        `token_revoked`, `invalid_auth` or `account_inactive`); None revives it."""
        self.dead_token = error

    def messages(self, channel: str) -> list[dict[str, Any]]:
        """Messages posted in a conversation, oldest first (a user id means their DM)."""
        channel_id = self.workspace.conversation_id(channel)
        return [dict(m) for m in self.workspace.messages.get(channel_id, [])]

    def ephemerals(
        self, *, channel: str | None = None, user: str | None = None
    ) -> list[dict[str, Any]]:
        found = self.workspace.ephemerals
        if channel is not None:
            channel_id = self.workspace.conversation_id(channel)
            found = [e for e in found if e["channel"] == channel_id]
        return [dict(e) for e in found if user is None or e["user"] == user]

    def views(self) -> list[dict[str, Any]]:
        """Every modal opened, pushed or updated (latest state), in creation order."""
        return [dict(v) for v in self.workspace.views.values() if v["type"] == "modal"]

    def uploaded_files(self, channel: str | None = None) -> list[SlackFile]:
        """Files whose bytes reached their upload URL, oldest reservation first; with `channel`
        (a user id means their DM), only those shared there. Each is a copy: `id`, `name`,
        `title` (None until files.completeUploadExternal), `content` (the bytes), `size`,
        `length` (as declared) and `length_mismatch`, `completed`, `channels` (shared to,
        in order; `channel` is the first) and `shares` (conversation id -> message ts)."""
        wanted = self.workspace.conversation_id(channel) if channel is not None else None
        return [
            replace(f, channels=list(f.channels), shares=dict(f.shares))
            for f in self.workspace.files.values()
            if f.content is not None and (wanted is None or wanted in f.channels)
        ]

    def file_bytes(self, file_id: str) -> bytes:
        """The bytes uploaded for `file_id` (KeyError when none arrived)."""
        file = self.workspace.files.get(file_id)
        if file is None or file.content is None:
            raise KeyError(file_id)
        return file.content

    def home_view(self, user_id: str) -> dict[str, Any] | None:
        return self.workspace.home_views.get(user_id)

    def new_trigger_id(self) -> str:
        """A trigger_id as Slack issues one with an interaction: usable once within 3 s."""
        return self.workspace.issue_trigger()

    # -- faults and records -------------------------------------------------------

    def fail(
        self,
        method: str,
        *,
        error: str | None = None,
        status: int = 200,
        retry_after: int | None = None,
        times: int = 1,
        after: int = 0,
    ) -> None:
        """Answer `times` calls to `method` (or "response_url", or "file_upload" for POSTs to
        upload URLs) with a failure, once `after` more calls have gone through (a sync that
        fails on its second page: `after=1`)."""
        self.faults.fail(
            method, error=error, status=status, retry_after=retry_after, times=times, after=after
        )

    def rate_limit(self, method: str, *, per_second: float, burst: int = 1) -> None:
        self.faults.rate_limit(method, per_second=per_second, burst=burst)

    def lose_answer(self, method: str, how: str, *, times: int = 1) -> None:
        """Carry out the next `times` calls but lose the answer ("reset" or "timeout")."""
        self.faults.lose_answer(method, how, times=times)

    def clear_faults(self) -> None:
        self.faults.clear()

    def reset(self) -> None:
        """Forget recorded calls, response_url and upload posts (the workspace stays)."""
        self.calls.clear()
        self.responses.clear()
        self.upload_posts.clear()
        self.socket.received.clear()

    def calls_to(self, method: str, ok_only: bool = True) -> list[RecordedCall]:
        return [c for c in self.calls if c.method == method and (c.ok or not ok_only)]

    def refused_calls(self, method: str | None = None) -> list[RecordedCall]:
        """Calls answered 429 (rate limited or injected), optionally for one method."""
        return [c for c in self.calls if c.status == 429 and method in (None, c.method)]

    # -- Web API ------------------------------------------------------------------

    async def _handle_api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        args: dict[str, Any] = {}
        answer: Answer
        try:
            args = await _read_args(request)
        except _BadRequest as exc:
            answer = (200, {"ok": False, "error": exc.error}, {})
        else:
            answer = self._answer(method, args, _token(request, args))
        status, body, headers = answer
        self._record(request, method, args, answer)
        lost = self.faults.take_lost(method)
        if lost == "reset" and request.transport is not None:
            request.transport.close()  # done, but the caller hears nothing
        elif lost == "timeout":
            await asyncio.sleep(self.lost_answer_seconds)
        return web.json_response(body, status=status, headers=headers)

    def _record(
        self, request: web.Request, method: str, args: dict[str, Any], answer: Answer
    ) -> None:
        status, body, _headers = answer
        error = body.get("error")
        self.calls.append(
            RecordedCall(
                method=method,
                args=_decoded(args),
                token=_token(request, args),
                at=self._now(),
                status=status,
                ok=bool(body.get("ok")),
                error=str(error) if error is not None else None,
                http_method=request.method,
            )
        )

    def _answer(self, method: str, args: dict[str, Any], token: str | None) -> Answer:
        handler = self._handlers.get(method)
        if handler is None:
            return 200, {"ok": False, "error": "unknown_method", "req_method": method}, {}
        canned = self.faults.take(method) or self.faults.throttle(method)
        if canned is not None:
            return canned
        auth_error = self._auth_error(method, token)
        if auth_error is not None:
            return 200, {"ok": False, "error": auth_error}, {}
        try:
            body = handler(self.workspace, Args(args))
        except ApiError as exc:
            return 200, {"ok": False, "error": exc.error, **exc.extra}, {}
        return 200, {"ok": True, **body}, {"X-OAuth-Scopes": BOT_SCOPES}

    def _auth_error(self, method: str, token: str | None) -> str | None:
        if token is None:
            return "not_authed"
        if token not in (self.bot_token, self.app_token):
            return "invalid_auth"
        if token == self.bot_token and self.dead_token is not None:
            return self.dead_token
        wants_app_token = method == "apps.connections.open"
        if (token == self.app_token) != wants_app_token:
            return "not_allowed_token_type"
        return None

    def _connections_open(self, ws: Workspace, args: Args) -> dict[str, Any]:
        ticket = self.socket.issue_ticket()
        return {"url": f"ws://{self._host}:{self.port}/socket-mode/{ticket}"}

    # -- file uploads -----------------------------------------------------------------

    async def _handle_upload(self, request: web.Request) -> web.Response:
        response, post = await api_files.receive_upload(
            self.workspace, self.faults, request, self._now()
        )
        self.upload_posts.append(post)
        return response

    # -- response_url ---------------------------------------------------------------

    def new_response_url(self) -> str:
        """A response_url: 5 posts within 30 minutes, as Slack allows."""
        return self._response_urls.issue(self.base_url)

    @property
    def responses(self) -> list[ResponsePost]:
        """Every post made to a response_url, accepted or not, oldest first."""
        return self._response_urls.posts

    def responses_for(self, url: str | None, ok_only: bool = True) -> list[ResponsePost]:
        """Posts made to one response_url (accepted ones unless `ok_only` is False)."""
        return [r for r in self.responses if r.url == url and (r.ok or not ok_only)]

    # -- Socket Mode ----------------------------------------------------------------

    async def wait_connected(self, timeout: float = 5.0) -> None:
        await self.socket.wait_connected(timeout)

    async def send_envelope(
        self,
        type_: EnvelopeType,
        payload: dict[str, Any],
        *,
        timeout: float = 5.0,
        retry_attempt: int = 0,
        retry_reason: str = "",
    ) -> dict[str, Any]:
        """Push a Socket Mode envelope to the connected app; returns its ack message.

        `retry_attempt` / `retry_reason` are sent on ``events_api`` envelopes only, as Slack
        does; ``accepts_response_payload`` is true except for ``events_api``.
        """
        return await self.socket.send_envelope(
            type_, payload, timeout=timeout, retry_attempt=retry_attempt, retry_reason=retry_reason
        )


__all__ = ["FakeSlack", "RecordedCall", "ResponsePost", "SlackFile", "UploadPost"]
