"""Turning question `Notice`s and CoE notices into outbox rows, in the transaction that
made them, and finding a row another place when Slack refused its channel.

Services decide what must be said; this module renders it (views) and queues it (outbox),
so a state change and the messages about it commit together or not at all.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.models import OutboxMessage, Question
from bot.services import channels, outbox
from bot.services.channels import Places, is_channel
from bot.services.questions import ASKER_COMMUNITY, Notice, community_notices
from bot.views import questions as views
from bot.views.common import Block, clip, escape

Render = Callable[[Question, Notice], tuple[str, list[Block]]]

RENDER: dict[str, Render] = {
    "champion-dm": lambda q, n: views.champion_dm(q, q.route_reason),
    "asker-routed": lambda q, n: views.asker_routed(q, str(n.data["champion"])),
    "asker-claimed": lambda q, n: views.asker_claimed(str(n.data["champion"])),
    "asker-answered": lambda q, n: views.asker_answered(q),
    "asker-community": lambda q, n: views.asker_community(q, n.data.get("where")),
    "community-post": lambda q, n: views.community_post(q, to_admin=not is_channel(n.to)),
    "coe-post": lambda q, n: views.coe_post(q),
}


async def enqueue(*, session: AsyncSession, notices: list[Notice], now: dt.datetime) -> int:
    """Queue each notice once (its key); returns how many were new."""
    added = 0
    for notice in notices:
        question = await session.get(Question, notice.question_id)
        if question is None:
            continue
        text, blocks = RENDER[notice.kind](question, notice)
        added += await outbox.enqueue(
            session=session,
            dedupe_key=notice.key,
            kind=f"question-{notice.kind}",
            channel=notice.to,
            text=text,
            blocks=blocks,
            now=now,
            ref=f"question:{notice.question_id}",
            held=bool(notice.data.get("held")),
        )
    return added


# Kinds of row meant for the CoE: when their channel closes, they go to the CoE admins.
# ("channel-notice" is not among them: a notice about a channel written while the CoE
# channel was open is stale once it closed; the CoE channel's own notice lists the rest.)
COE_KINDS = frozenset(
    {
        "coe-notice",
        "policy-review-reminder",
        "prompt-hidden",
        "prompt-pending",
        "question-coe-post",
        "report-monthly",
        "usage-guardrails",
    }
)


async def to_coe(
    *,
    session: AsyncSession,
    places: Places,
    dedupe_key: str,
    kind: str,
    text: str,
    now: dt.datetime,
    blocks: list[dict[str, Any]] | None = None,
    skip: tuple[str, ...] = (),
) -> int:
    """Queue a notice for the CoE: in the CoE channel, or, when that is unset or known
    closed, to each CoE admin by DM (`channels.recipients`); how many rows were new.
    `kind` should be one of `COE_KINDS`. Each recipient's row is keyed `dedupe_key:to`.
    With nowhere to send it (the CoE channel closed and no admin listed by user ID), it
    waits `held` for the CoE channel, sent when that opens again (`release_channel`)."""
    added = 0
    to_all = await channels.recipients(session, places.for_coe(), skip=skip)
    if not to_all and places.coe and kind in COE_KINDS:
        return int(
            await outbox.enqueue(
                session=session,
                dedupe_key=f"{dedupe_key}:{places.coe}:held",
                kind=kind,
                channel=places.coe,
                text=text,
                blocks=blocks,
                now=now,
                held=True,
            )
        )
    for to in to_all:
        added += await outbox.enqueue(
            session=session,
            dedupe_key=f"{dedupe_key}:{to}",
            kind=kind,
            channel=to,
            text=text,
            blocks=blocks,
            now=now,
        )
    return added


# Slack's refusals of a message for its size (https://docs.slack.dev/reference/methods/chat.postMessage):
# the same words without their layout still reach the channel.
SIZE_ERRORS = frozenset({"msg_too_long", "msg_blocks_too_long"})
SHORT_TEXT_MAX = 3000
SHORTENED = "\n_(Shortened: Slack refused the full message as too long.)_"


async def shortened(*, session: AsyncSession, message: OutboxMessage, now: dt.datetime) -> int:
    """A row Slack refused as too long, sent again as plain mrkdwn text: its headers,
    sections and context lines (mrkdwn as the row was built, plain text escaped) within
    `SHORT_TEXT_MAX` characters, buttons left out. Once per row; returns rows queued."""
    if not message.blocks or message.dedupe_key.endswith(":short"):
        return 0
    lines = [_words(block) for block in message.blocks]
    text = clip("\n".join(line for line in lines if line), SHORT_TEXT_MAX - len(SHORTENED))
    return int(
        await outbox.enqueue(
            session=session,
            dedupe_key=f"{message.dedupe_key}:short",
            kind=message.kind,
            channel=message.channel,
            text=text + SHORTENED,
            now=now,
            ref=message.ref,
            thread_ts=message.thread_ts,
        )
    )


def _words(block: Block) -> str:
    if block.get("type") == "header":
        return f"*{_mrkdwn(block.get('text'))}*"
    if block.get("type") == "section":
        return _mrkdwn(block.get("text"))
    if block.get("type") == "context":
        return " ".join(_mrkdwn(e) for e in block.get("elements", []) if "text" in e)
    return ""


def _mrkdwn(obj: Any) -> str:
    """A text object as mrkdwn: plain text is escaped, as it was never meant to be read."""
    if not isinstance(obj, dict):
        return ""
    text = str(obj.get("text", ""))
    return text if obj.get("type") == "mrkdwn" else escape(text)


async def redirect(
    *, session: AsyncSession, message: OutboxMessage, places: Places, now: dt.datetime
) -> int:
    """A row Slack refused for good: send what it carried somewhere that works, if it has
    a fallback. A question's community post goes to the next place (the held asker notice
    is written again to say where, or that nowhere could take it); a CoE notice goes to
    the admins by DM. Returns how many rows were queued."""
    if message.kind == "question-community-post" and message.ref:
        return await _community_post_failed(session, message, places, now)
    if message.kind in COE_KINDS:
        tried = message.dedupe_key.removesuffix(f":{message.channel}")
        return await to_coe(
            session=session,
            places=places,
            dedupe_key=tried,
            kind=message.kind,
            text=message.text,
            blocks=message.blocks,
            now=now,
            skip=(message.channel,),
        )
    return 0


async def _community_post_failed(
    session: AsyncSession, message: OutboxMessage, places: Places, now: dt.datetime
) -> int:
    assert message.id is not None
    assert message.ref is not None
    others = await outbox.siblings(
        session=session, ref=message.ref, kind=message.kind, other_than=message.id
    )
    if any(o.status in ("pending", "sending", "sent") for o in others):
        return 0  # another post is on its way (or there): it releases the asker's notice
    question = await session.get(Question, int(message.ref.removeprefix("question:")))
    if question is None or question.id is None:
        return 0
    await outbox.drop_held(session=session, dedupe_key=ASKER_COMMUNITY.format(question.id))
    if question.status != "open" or question.champion_id is not None:
        return 0  # taken meanwhile: the asker was told by whoever took it
    tried = {o.channel for o in others} | {message.channel}
    to = await channels.recipients(session, places.for_questions(), skip=tried)
    return await enqueue(
        session=session, notices=community_notices(question.id, question.asker_id, to), now=now
    )
