"""`coe-bot try`: one slash command through the real app, against the Slack stand-in.

The real aiohttp app and Bolt listeners run on a local port; the stand-in plays Slack
on another and a signed request is sent exactly as Slack would send it. What the
person would see (the ack and every later reply) comes back as readable text.
"""

from __future__ import annotations

import asyncio
import functools
import re
import secrets
from typing import Any

import aiohttp
from aiohttp import web
from pydantic import SecretStr

from bot.app import DEPS, create_app
from bot.config import Settings
from bot.errors import BadInput
from bot.standin import FakeSlack, SlackSender
from bot.standin.console import COMMAND_PATH, ESCAPED, LOG_PATH, escape_as_slack
from bot.survey_secret import with_local_secret
from bot.views.text import render_message

COMMANDS = ("/ai-policy", "/prompts", "/ask-champion", "/ai-coe")


async def directory() -> str:
    """The stand-in's people, channels and user groups, for `coe-bot try --users`."""
    async with FakeSlack(open_directory=True) as slack:
        ws = slack.workspace
        lines = ["People (use with --user):"]
        lines += [
            f"  {u.id}  @{u.name}" + (f"  ({u.real_name})" if u.real_name else "")
            for u in ws.users.values()
            if u.id != ws.bot_user_id
        ]
        lines.append("Channels (use with --channel, or #name in /ai-coe):")
        lines += [f"  {c.id}  #{c.name}" for c in ws.channels.values() if not c.is_im]
        lines.append("User groups (@handle in /ai-coe):")
        lines += [f"  {g.id}  @{g.handle}" for g in ws.usergroups.values()]
        lines.append("Any other well-formed user ID (U…) works too, e.g. the ones in your roster.")
        return "\n".join(lines) + "\n"


_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")
_CHANNEL_ID = re.compile(r"^[CDG][A-Z0-9]{2,}$")


@functools.cache
def _seeded() -> tuple[dict[str, str], dict[str, str]]:
    """The stand-in's seeded people and channels (the same in every stand-in, the server's
    too): ({user ID: name}, {channel ID: name}), built once per process."""
    workspace = FakeSlack(open_directory=True).workspace
    users = {u.id: u.name for u in workspace.users.values()}
    channels = {c.id: c.name for c in workspace.channels.values() if not c.is_im}
    return users, channels


def who_is(user: str, channel: str) -> tuple[str, str]:
    """`--user` and `--channel` as IDs: `@alice` and `#ai-community` are looked up among the
    stand-in's people and channels (`coe-bot try --users`). Raises ValueError, saying what
    is accepted, for a name nobody has or something that is not an ID."""
    users, channels = _seeded()
    if user.startswith("@"):
        found = [ident for ident, name in users.items() if name == user[1:].lower()]
        if not found:
            raise ValueError(f"nobody is called {user}: see `coe-bot try --users`")
        user = found[0]
    if not _USER_ID.match(user):
        raise ValueError(
            f"--user takes a Slack user ID like U0ALICE, or @name from `coe-bot try --users`;"
            f" not {user!r}"
        )
    if channel.startswith("#"):
        named = [ident for ident, name in channels.items() if name == channel[1:].lower()]
        if not named:
            raise ValueError(f"there is no channel {channel}: see `coe-bot try --users`")
        channel = named[0]
    if not _CHANNEL_ID.match(channel):
        raise ValueError(
            f"--channel takes a channel ID like C0GENERAL, or #name from `coe-bot try --users`;"
            f" not {channel!r}"
        )
    return user, channel


def split_command(command_line: str) -> tuple[str, str]:
    command, _, text = command_line.strip().partition(" ")
    if command not in COMMANDS:
        known = ", ".join(COMMANDS)
        raise BadInput(f"{command or 'nothing'!r} is not a coe-bot command; try one of {known}")
    return command, text.strip()


async def run_command(
    settings: Settings,
    command_line: str,
    *,
    user_id: str,
    channel_id: str,
    html: list[str] | None = None,
    note: str = "",
) -> str:
    """What the person would see, as text, under `note` (why it ran here); with `html`, an
    HTML preview of the same replies (`bot.standin.preview`) is appended to it."""
    try:
        command, text = split_command(command_line)
    except BadInput as problem:
        return f"{problem}\n"
    async with FakeSlack(open_directory=True) as slack:
        if user_id not in slack.workspace.users:
            slack.add_user(user_id, user_id.lower())
        secret = secrets.token_hex(16)
        local = with_local_secret(settings).model_copy(
            update={
                "slack_api_url": slack.api_url,
                "slack_bot_token": SecretStr(slack.bot_token),
                "slack_signing_secret": SecretStr(secret),
            }
        )
        app = create_app(local, run_workers=False, audit_startup=False)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        try:
            port = runner.addresses[0][1]
            async with SlackSender(
                f"http://127.0.0.1:{port}/slack/events", secret, slack=slack, strict=False
            ) as sender:
                if command in ESCAPED:
                    text = escape_as_slack(text, slack.workspace)
                sent = await sender.command(command, text, user_id=user_id, channel_id=channel_id)
            await app[DEPS].background.drain()
            entries = [_reply_entry(r.body) for r in slack.responses_for(sent.response_url or "")]
            entries += [
                {"kind": "modal", "where": "views.open", "message": v} for v in slack.views()
            ]
            head = f"{command_line.strip()}  (as {user_id})\n" + (f"{note}\n" if note else "")
            if html is not None:
                html.append(_preview(command_line, sent.json(), entries))
            return _transcript(head, sent.status, sent.json(), entries, sent.refused)
        finally:
            await runner.cleanup()


class ServerProblem(Exception):
    """`try --url` cannot use that server; the message says why and what to do."""


async def server_mode(url: str) -> str:
    """What answers at `url`: "standin" (a coe-bot serving the Slack stand-in), "slack" (a
    coe-bot, or something else, without the stand-in's console: a server connected to real
    Slack never has it) or "none" (nothing answers within a second)."""
    timeout = aiohttp.ClientTimeout(total=1.0)
    try:
        async with aiohttp.ClientSession(timeout=timeout) as http:
            probe = f"{url.rstrip('/')}{LOG_PATH}?calls={2**62}&responses={2**62}"
            async with http.get(probe) as res:
                return "standin" if res.status == 200 else "slack"
    except (aiohttp.ClientError, TimeoutError, ValueError):
        return "none"


async def run_on_server(
    url: str,
    command_line: str,
    *,
    user_id: str,
    channel_id: str,
    wait: float = 4.0,
    quiet: float = 1.0,
    html: list[str] | None = None,
) -> str:
    """Send the command to the coe-bot server at `url` through its Slack stand-in, as a
    person in Slack would, and return what they see: the reply, then everything the bot
    sent Slack until `quiet` seconds pass with nothing new (at most `wait` seconds).

    Raises ServerProblem when nothing there answers as a stand-in server."""
    command, text = split_command(command_line)
    base = url.rstrip("/")
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as http:
        try:
            async with http.post(
                f"{base}{COMMAND_PATH}",
                json={
                    "command": command,
                    "text": text,
                    "user_id": user_id,
                    "channel_id": channel_id,
                },
            ) as res:
                if res.status == 404:
                    raise ServerProblem(NOT_STANDIN.format(url=base))
                res.raise_for_status()
                sent = await res.json()
        except aiohttp.ClientError as error:
            raise ServerProblem(f"no coe-bot server answers at {base} ({error})") from error
        mark, entries = sent["mark"], []
        loop = asyncio.get_running_loop()
        started = last_new = loop.time()
        while loop.time() - last_new < quiet and loop.time() - started < wait:
            await asyncio.sleep(0.2)
            query = {**{k: str(v) for k, v in mark.items()}, "response_url": sent["response_url"]}
            async with http.get(f"{base}{LOG_PATH}", params=query) as res:
                res.raise_for_status()
                found = await res.json()
            if found["entries"]:
                entries += found["entries"]
                last_new = loop.time()
            mark = found["mark"]
    head = f"{command_line.strip()}  (as {user_id}, on the server at {base})\n"
    if html is not None:
        html.append(_preview(command_line, sent["ack"], entries))
    return _transcript(head, sent["status"], sent["ack"], entries, sent.get("refused"))


NOT_STANDIN = (
    "the server at {url} is not running the Slack stand-in (it is connected to real Slack,"
    " or it is not coe-bot): try sends only to a server started without Slack credentials"
    " (make run)"
)
# The line above each thing the person would see, by the console's entry kind.
_HEADINGS = {
    "message": "the bot posted in {where}",
    "ephemeral": "the bot posted in {where}",
    "update": "the bot updated a message in {where}",
    "modal": "a modal opens: {title}",
    "home": "{where} is updated: {title}",
    "refused": "Slack refused {where}",
}


def _reply_entry(body: dict[str, Any]) -> dict[str, Any]:
    public = body.get("response_type") == "in_channel"
    where = "visible to everyone in the channel" if public else "visible to only you"
    return {"kind": "reply", "where": where, "message": body}


def _heading(entry: dict[str, Any]) -> str:
    kind, where, message = str(entry["kind"]), str(entry["where"]), entry["message"]
    if kind == "reply":
        return f"reply, {where}"
    if kind == "message" and where.startswith("a DM to"):
        return f"the bot sent {where}"
    title = str((message.get("title") or {}).get("text", ""))
    if kind == "modal" and where == "views.update":
        return f"the modal changes: {title}"
    return _HEADINGS.get(kind, kind).format(where=where, title=title)


def _preview(command_line: str, ack: dict[str, Any] | None, entries: list[dict[str, Any]]) -> str:
    from bot.standin.preview import page

    replies = [("the reply, visible to only you", ack)] if ack else []
    replies += [(_heading(e), e["message"]) for e in entries if e["kind"] not in {"refused"}]
    return page(replies, title=command_line.strip())


_MENTION = re.compile(r"([@#])([UWCG][A-Z0-9]{2,})\b")


def _named(text: str) -> str:
    """@U0ALICE and #C0COMMUNITY as Slack shows them, @alice and #ai-community, for the
    stand-in's people and channels (`coe-bot try --users`); other IDs stay as they are."""
    users, channels = _seeded()

    def swap(found: re.Match[str]) -> str:
        sign, ident = found[1], found[2]
        name = (users if sign == "@" else channels).get(ident)
        return f"{sign}{name}" if name else found[0]

    return _MENTION.sub(swap, text)


def _transcript(
    head: str,
    status: int,
    ack: dict[str, Any] | None,
    entries: list[dict[str, Any]],
    refused: str | None = None,
) -> str:
    parts = [head]
    if status != 200:
        parts.append(f"Slack would show an error: the app answered HTTP {status}.\n")
    elif refused:
        parts.append(f"Slack would refuse the app's reply ({refused}); the person sees an error.\n")
    shown = ([_reply_entry(ack)] if ack else []) + entries
    if not shown:
        parts.append("(no reply)\n")
    for entry in shown:
        parts.append(f"\n── {_heading(entry)} ──\n")
        if entry["kind"] not in {"refused", "home"}:
            parts.append(_named(render_message(entry["message"])))
    return "".join(parts)
