"""Small helpers shared by tests: reading what the database holds, checking blocks."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import socket
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlmodel import col, select

from bot.models import AuditEvent, OutboxMessage, PolicyLookup
from bot.standin import validate_blocks
from tests.conftest import RunningApp


async def lookups(app: RunningApp) -> list[PolicyLookup]:
    async with app.deps.sessions() as session:
        return list((await session.exec(select(PolicyLookup).order_by(col(PolicyLookup.id)))).all())


async def audit_events(app: RunningApp, action: str | None = None) -> list[AuditEvent]:
    async with app.deps.sessions() as session:
        query = select(AuditEvent).order_by(col(AuditEvent.id))
        if action:
            query = query.where(AuditEvent.action == action)
        return list((await session.exec(query)).all())


async def outbox_rows(app: RunningApp) -> list[OutboxMessage]:
    async with app.deps.sessions() as session:
        return list(
            (await session.exec(select(OutboxMessage).order_by(col(OutboxMessage.id)))).all()
        )


def message_text(message: dict[str, Any]) -> str:
    """Every piece of text a person would read in a message, joined."""
    parts = [str(message.get("text", ""))]

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") in {"mrkdwn", "plain_text"}:
                parts.append(str(node.get("text", "")))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(message.get("blocks", []))
    return "\n".join(parts)


def assert_valid_message(message: dict[str, Any]) -> None:
    problems = validate_blocks(message.get("blocks", []), surface="message")
    assert problems == [], problems


# Settings the app reads from the environment; a subprocess gets only the ones a test sets.
APP_VARIABLES = (
    "SLACK_",
    "DATABASE_URL",
    "COE_",
    "POLICY_PACK",
    "LOG_LEVEL",
    "LOG_FORMAT",
    "TEST_DATABASE_URL",
)


def coe_bot_command() -> list[str]:
    """How to run the `coe-bot` command line in a subprocess."""
    script = Path(sys.executable).with_name("coe-bot")
    return [str(script)] if script.exists() else [sys.executable, "-m", "bot"]


async def run_coe_bot(*args: str, **env: str) -> tuple[int, str, str]:
    """`coe-bot *args` in a child process with `clean_env(**env)`: (exit code, stdout,
    stderr), within two minutes."""
    command = await asyncio.create_subprocess_exec(
        *coe_bot_command(),
        *args,
        env=clean_env(**env),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(command.communicate(), timeout=120)
    assert command.returncode is not None
    return command.returncode, out.decode(), err.decode()


def clean_env(**variables: str) -> dict[str, str]:
    """This environment without the app's settings, plus `variables`."""
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith(APP_VARIABLES)}
    env["PORT"] = str(_unused_port())  # `try` looks for a server there: none, unless given
    env.update(variables)
    return env


def _unused_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def generated(examples: int) -> Any:
    """Hypothesis settings for tests that drive the real app: a fixed, derandomized count in
    `make test`, 20 times more with HYPOTHESIS_PROFILE=long; no deadline (real I/O)."""
    from hypothesis import HealthCheck, settings

    scale = 20 if os.environ.get("HYPOTHESIS_PROFILE") == "long" else 1
    return settings(
        max_examples=examples * scale,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )


async def seed_answered_run(
    session: Any,
    definition_yaml: str,
    responses: Sequence[tuple[str, str | None, dict[str, Any]]],
    *,
    secret: bytes,
    now: dt.datetime,
    period: str | None = None,
) -> Any:
    """Store the survey in `definition_yaml`, start a run for the people in `responses`
    and submit each (user, team, answers), in `session`; the open run."""
    import uuid

    from bot.services import surveys
    from bot.services.survey_definitions import parse_definition

    definition = parse_definition(definition_yaml, source="t")
    await surveys.save_definition(
        session=session, definition=definition, source="t", actor="U0ADMIN", now=now
    )
    people = [user for user, _, _ in responses]
    run = await surveys.start_run(
        session=session,
        definition=definition,
        period=period or f"p-{uuid.uuid4().hex[:12]}",
        audience=people or ["U0NOBODY"],
        started_by="U0ADMIN",
        now=now,
    )
    assert run is not None
    assert run.id is not None
    for user, team, answers in responses:
        await surveys.submit(
            session=session,
            run_id=run.id,
            user_id=user,
            answers=answers,
            team=team,
            secret=secret,
            now=now,
        )
    return run


async def answered_run(
    app: RunningApp,
    definition_yaml: str,
    responses: Sequence[tuple[str | None, dict[str, Any]]],
    *,
    close: bool = True,
) -> int:
    """A run of the survey in `definition_yaml`, answered once per (team, answers) by
    U0P000, U0P001, … (keyed with the app's SURVEY_SECRET); closed, so sealed, unless
    `close` is False. Returns the run's id."""
    from bot.services import surveys

    async with app.deps.sessions.begin() as session:
        run = await seed_answered_run(
            session,
            definition_yaml,
            [(f"U0P{i:03d}", team, answers) for i, (team, answers) in enumerate(responses)],
            secret=app.deps.settings.survey_key(),
            now=app.deps.clock(),
        )
        if close:
            await surveys.close_due(
                session=session, now=run.closes_at, rules=app.deps.settings.survey_rules()
            )
        return int(run.id)


MENTION = {  # an @-mention of the bot, as Slack sends it (copy it before changing it)
    "type": "app_mention",
    "user": "U0ALICE",
    "text": "<@U0BOT> can I use copilot for auth code",
    "ts": "1700000000.000100",
    "channel": "C0GENERAL",
    "event_ts": "1700000000.000100",
}


async def send_in_slack(
    sender: Any, app: Any, slack: Any, text: str, *, user_id: str = "U0ADMIN"
) -> tuple[str, str]:
    """`/ai-coe survey send …` as an admin does it: the command, then *Send* on the
    confirmation it shows. Returns what each step showed (the second is "" when there was
    no confirmation to click, e.g. a refusal)."""
    sent = await sender.command("/ai-coe", text, user_id=user_id)
    await app.settle()
    [reply] = slack.responses_for(sent.response_url or "")
    asked = message_text(reply.body)
    buttons = [
        element
        for block in reply.body.get("blocks") or []
        if block.get("type") == "actions"
        for element in block["elements"]
        if element["action_id"] == "survey-send-confirmed"
    ]
    if not buttons:
        return asked, ""
    url = slack.new_response_url()
    await sender.block_action(
        "survey-send-confirmed", value=buttons[0]["value"], user_id=user_id, response_url=url
    )
    await app.settle()
    return asked, message_text(slack.responses_for(url)[-1].body)


async def add_digest_subscriptions(
    app: RunningApp, count: int, *, timezone: str = "Europe/Paris", sections: Sequence[str]
) -> None:
    """`count` weekly digests at 09:00 on weekdays, channels C0TEAM000, C0TEAM001, …"""
    from bot.models import DigestSubscription

    async with app.deps.sessions.begin() as session:
        for n in range(count):
            session.add(
                DigestSubscription(
                    channel_id=f"C0TEAM{n:03d}",
                    weekday=n % 5,
                    time_of_day="09:00",
                    timezone=timezone,
                    sections=list(sections),
                    created_by="U0ADMIN",
                )
            )
