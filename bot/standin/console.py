"""The stand-in's console: how `coe-bot try` reaches a server running the Slack stand-in.

A server started without Slack credentials (`make run`) plays Slack with its own
`FakeSlack`. These two routes, added to that server's app and nowhere else, let `try` do
what a person in Slack does and see what they would see:

- ``POST /_standin/command`` with JSON ``{"command", "text", "user_id", "channel_id"}``:
  the stand-in sends the slash command to the app, signed and shaped exactly as Slack
  sends it (``#channel`` and ``@name`` converted for commands with ``should_escape``), and
  answers ``{"status", "ack", "response_url", "mark"}`` — the app's HTTP status, its JSON
  ack (or null) and where the later log starts.
- ``GET /_standin/log?calls=N&responses=M&response_url=URL``: what the app sent Slack since
  that mark, oldest first, as ``{"mark", "entries"}``; each entry is ``{"kind", "where",
  "message"}`` with kind ``reply`` (to the command's response_url), ``message``,
  ``ephemeral``, ``update``, ``modal``, ``home`` or ``refused`` (Slack said no: ``where``
  names the method and the error).

Both answer only requests from this machine (loopback); anyone else gets 404, as does a
server connected to real Slack, which never has these routes.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any

from aiohttp import web

from .sender import SlackSender
from .webapi import FakeSlack, RecordedCall
from .workspace import Workspace

COMMAND_PATH = "/_standin/command"
LOG_PATH = "/_standin/log"
# Commands whose manifest entry has `should_escape: true`: Slack turns #channel, @person and
# @user-group into <#C…|name>, <@U…|name> and <!subteam^S…|@handle> before sending them
# (https://api.slack.com/interactivity/slash-commands#creating_commands).
ESCAPED = frozenset({"/ai-coe"})
_SHOWN = {
    "chat.postMessage": "message",
    "chat.postEphemeral": "ephemeral",
    "chat.update": "update",
    "views.open": "modal",
    "views.push": "modal",
    "views.update": "modal",
    "views.publish": "home",
}
_NAMED = re.compile(r"(?<![<\w])([#@])([a-z0-9][a-z0-9._-]*)", re.IGNORECASE)


def attach(app: web.Application, slack: FakeSlack, events_url: str, signing_secret: str) -> None:
    """Add the console routes to `app` (a coe-bot app served against `slack`), sending
    commands to `events_url` signed with `signing_secret`. Call before the app starts."""
    console = _Console(slack, events_url, signing_secret)
    app.router.add_post(COMMAND_PATH, console.command)
    app.router.add_get(LOG_PATH, console.log)


def _from_this_machine(request: web.Request) -> bool:
    try:
        return ipaddress.ip_address(request.remote or "").is_loopback
    except ValueError:
        return False


class _Console:
    def __init__(self, slack: FakeSlack, events_url: str, signing_secret: str) -> None:
        self.slack = slack
        self.events_url = events_url
        self.signing_secret = signing_secret

    async def command(self, request: web.Request) -> web.Response:
        if not _from_this_machine(request):
            raise web.HTTPNotFound()
        try:
            body = await request.json()
            command, text = str(body["command"]), str(body.get("text", ""))
            user_id, channel_id = str(body["user_id"]), str(body["channel_id"])
        except (ValueError, KeyError, TypeError):
            return web.json_response({"error": "invalid_arguments"}, status=400)
        ws = self.slack.workspace
        if user_id not in ws.users:
            self.slack.add_user(user_id, user_id.lower())
        if command in ESCAPED:
            text = escape_as_slack(text, ws)
        mark = self._mark()
        async with SlackSender(
            self.events_url, self.signing_secret, slack=self.slack, strict=False
        ) as sender:
            sent = await sender.command(command, text, user_id=user_id, channel_id=channel_id)
        return web.json_response(
            {
                "status": sent.status,
                "ack": sent.json(),
                "refused": sent.refused,
                "response_url": sent.response_url,
                "mark": mark,
            }
        )

    async def log(self, request: web.Request) -> web.Response:
        if not _from_this_machine(request):
            raise web.HTTPNotFound()
        try:
            calls = int(request.query.get("calls", "0"))
            responses = int(request.query.get("responses", "0"))
        except ValueError:
            return web.json_response({"error": "invalid_arguments"}, status=400)
        response_url = request.query.get("response_url")
        entries: list[tuple[Any, dict[str, Any]]] = []
        for call in self.slack.calls[calls:]:
            entry = self._call_entry(call)
            if entry is not None:
                entries.append((call.at, entry))
        for post in self.slack.responses[responses:]:
            if post.url == response_url and post.ok:
                public = post.body.get("response_type") == "in_channel"
                where = "visible to everyone in the channel" if public else "visible to only you"
                entries.append((post.at, {"kind": "reply", "where": where, "message": post.body}))
        entries.sort(key=lambda pair: pair[0])
        return web.json_response({"mark": self._mark(), "entries": [e for _, e in entries]})

    def _mark(self) -> dict[str, int]:
        return {"calls": len(self.slack.calls), "responses": len(self.slack.responses)}

    def _call_entry(self, call: RecordedCall) -> dict[str, Any] | None:
        kind = _SHOWN.get(call.method)
        if kind is None:
            return None
        args = call.args
        if not call.ok:
            place = self._place(str(args.get("channel", ""))) if "channel" in args else ""
            where = f"{call.method}{' to ' + place if place else ''}: {call.error}"
            return {"kind": "refused", "where": where, "message": {}}
        if kind == "modal":
            return {"kind": kind, "where": call.method, "message": args.get("view") or {}}
        if kind == "home":
            where = f"the App Home of {self._person(str(args.get('user_id', '')))}"
            return {"kind": kind, "where": where, "message": args.get("view") or {}}
        message = {k: args[k] for k in ("text", "blocks") if k in args}
        place = self._place(str(args.get("channel", "")))
        if kind == "ephemeral":
            place = f"{place}, visible only to {self._person(str(args.get('user', '')))}"
        return {"kind": kind, "where": place, "message": message}

    def _person(self, user_id: str) -> str:
        user = self.slack.workspace.users.get(user_id)
        return f"@{user.name}" if user else f"@{user_id}"

    def _place(self, channel: str) -> str:
        ws = self.slack.workspace
        found = ws.channels.get(ws.conversation_id(channel))
        if found is None:
            return channel
        if found.is_im:
            return f"a DM to {self._person(found.user or '')}"
        return f"#{found.name}"


def escape_as_slack(text: str, workspace: Workspace) -> str:
    """`#name` and `@name` as Slack sends them for a command with `should_escape`: the
    channel, person or user group of that name in `workspace`; an unknown name stays."""
    channels = {c.name: c.id for c in workspace.channels.values() if not c.is_im}
    people = {u.name: u.id for u in workspace.users.values()}
    groups = {g.handle: g.id for g in workspace.usergroups.values()}

    def swap(found: re.Match[str]) -> str:
        sign, name = found[1], found[2]
        key = name.lower()
        if sign == "#" and key in channels:
            return f"<#{channels[key]}|{name}>"
        if sign == "@" and key in people:
            return f"<@{people[key]}|{name}>"
        if sign == "@" and key in groups:
            return f"<!subteam^{groups[key]}|@{name}>"
        return found[0]

    return _NAMED.sub(swap, text)
