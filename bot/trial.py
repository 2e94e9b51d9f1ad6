"""`coe-bot try`: one slash command through the real app, against the Slack stand-in.

The real aiohttp app and Bolt listeners run on a local port; the stand-in plays Slack
on another and a signed request is sent exactly as Slack would send it. What the
person would see (the ack and every later reply) comes back as readable text.
"""

from __future__ import annotations

import re
import secrets
from typing import Any

from aiohttp import web
from pydantic import SecretStr

from bot.app import DEPS, create_app
from bot.config import Settings
from bot.errors import BadInput
from bot.standin import FakeSlack, SlackSender
from bot.standin.workspace import Workspace
from bot.survey_secret import with_local_secret
from bot.views.text import render_message

COMMANDS = ("/ai-policy", "/prompts", "/ask-champion", "/ai-coe")
# Commands whose manifest entry has `should_escape: true`: Slack turns #channel, @person and
# @user-group into <#C…|name>, <@U…|name> and <!subteam^S…|@handle> before sending them
# (https://api.slack.com/interactivity/slash-commands#creating_commands).
ESCAPED = frozenset({"/ai-coe"})
_NAMED = re.compile(r"(?<![<\w])([#@])([a-z0-9][a-z0-9._-]*)", re.IGNORECASE)


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
) -> str:
    """What the person would see, as text; with `html`, an HTML preview of the same
    replies (`bot.standin.preview`) is appended to it."""
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
                f"http://127.0.0.1:{port}/slack/events", secret, slack=slack
            ) as sender:
                if command in ESCAPED:
                    text = escape_as_slack(text, slack.workspace)
                sent = await sender.command(command, text, user_id=user_id, channel_id=channel_id)
            await app[DEPS].background.drain()
            later = [r.body for r in slack.responses_for(sent.response_url or "")]
            later += [{"blocks": v.get("blocks", []), "modal": v} for v in slack.views()]
            if html is not None:
                html.append(_preview(command_line, sent.json(), later))
            return _transcript(command_line, user_id, sent.status, sent.json(), later)
        finally:
            await runner.cleanup()


def _preview(command_line: str, ack: dict[str, Any] | None, later: list[dict[str, Any]]) -> str:
    from bot.standin.preview import page

    replies = [("the reply, visible to only you", ack)] if ack else []
    for reply in later:
        if "modal" in reply:
            replies.append(("a modal", reply["modal"]))
        else:
            public = reply.get("response_type") == "in_channel"
            replies.append((f"visible to {'everyone' if public else 'only you'}", reply))
    return page(replies, title=command_line.strip())


def _transcript(
    command_line: str,
    user_id: str,
    status: int,
    ack: dict[str, Any] | None,
    later: list[dict[str, Any]],
) -> str:
    parts = [f"{command_line.strip()}  (as {user_id})\n"]
    if status != 200:
        parts.append(f"Slack would show an error: the app answered HTTP {status}.\n")
    replies = ([ack] if ack else []) + later
    if not replies:
        parts.append("(no reply)\n")
    for reply in replies:
        if "modal" in reply:
            title = reply["modal"].get("title", {}).get("text", "")
            parts.append(f"\n── a modal opens: {title} ──\n")
            parts.append(render_message(reply))
            continue
        public = reply.get("response_type") == "in_channel"
        visible = "everyone in the channel" if public else "only you"
        parts.append(f"\n── reply, visible to {visible} ──\n")
        parts.append(render_message(reply))
    return "".join(parts)
