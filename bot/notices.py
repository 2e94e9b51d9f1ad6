"""Turning question `Notice`s into outbox rows, in the transaction that made them.

Services decide what must be said; this module renders it (views) and queues it (outbox),
so a state change and the messages about it commit together or not at all.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.models import Question
from bot.services import outbox
from bot.services.questions import Notice
from bot.views import questions as views
from bot.views.common import Block

Render = Callable[[Question, Notice], tuple[str, list[Block]]]

RENDER: dict[str, Render] = {
    "champion-dm": lambda q, n: views.champion_dm(q, q.route_reason),
    "asker-routed": lambda q, n: views.asker_routed(q, str(n.data["champion"])),
    "asker-claimed": lambda q, n: views.asker_claimed(str(n.data["champion"])),
    "asker-answered": lambda q, n: views.asker_answered(q),
    "asker-community": lambda q, n: views.asker_community(
        q, str(n.data.get("reason")), n.data.get("channel")
    ),
    "community-post": lambda q, n: views.community_post(q),
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
        )
    return added
