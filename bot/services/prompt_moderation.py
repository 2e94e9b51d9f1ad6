"""Moderation of the prompt library: reports that hide a prompt, and CoE decisions."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.db import insert_for
from bot.errors import BadInput
from bot.models import Prompt, PromptReport
from bot.services import audit
from bot.services.prompts import Status, get_live


@dataclass(frozen=True, slots=True)
class ReportOutcome:
    new_report: bool
    hidden_now: bool
    open_reports: int


async def report(
    *,
    session: AsyncSession,
    prompt: Prompt,
    user_id: str,
    reason: str | None,
    threshold: int,
    now: dt.datetime,
) -> ReportOutcome:
    """One report per person; `threshold` open reports hide the prompt until reviewed."""
    assert prompt.id is not None
    # Reports of one prompt are counted one transaction at a time: the prompt row is locked
    # first (before the insert takes its foreign-key lock, which would deadlock), so
    # simultaneous reports cannot each see fewer than the threshold.
    await session.exec(select(Prompt.id).where(col(Prompt.id) == prompt.id).with_for_update())
    stmt = insert_for(session, PromptReport).values(
        prompt_id=prompt.id, user_id=user_id, reason=reason, created_at=now
    )
    new = bool((await session.exec(stmt.on_conflict_do_nothing())).rowcount)
    open_reports = (
        await session.exec(
            select(func.count())
            .select_from(PromptReport)
            .where(
                col(PromptReport.prompt_id) == prompt.id, col(PromptReport.resolved_at).is_(None)
            )
        )
    ).one()
    hide = new and prompt.status == Status.published and open_reports >= threshold
    if hide:
        prompt.status = Status.hidden
        session.add(prompt)
        await audit.record(
            session=session,
            actor="system",
            action="prompt.hidden",
            subject=f"prompt:{prompt.id}",
            details={"open_reports": open_reports, "threshold": threshold},
            now=now,
        )
    return ReportOutcome(new_report=new, hidden_now=hide, open_reports=int(open_reports))


async def review_queue(
    *, session: AsyncSession, limit: int = 20, offset: int = 0
) -> tuple[Sequence[Prompt], int]:
    """Prompts waiting for a CoE decision (pending ones, and ones hidden by reports), oldest
    first, `limit` of them from `offset`, and how many wait in all."""
    waiting = col(Prompt.status).in_([Status.pending, Status.hidden])
    query = (
        select(Prompt)
        .where(waiting)
        .order_by(col(Prompt.updated_at), col(Prompt.id))
        .offset(offset)
        .limit(limit)
    )
    total = (await session.exec(select(func.count()).select_from(Prompt).where(waiting))).one()
    return (await session.exec(query)).all(), int(total)


async def moderate(
    *, session: AsyncSession, prompt_id: int, decision: str, admin_id: str, now: dt.datetime
) -> Prompt:
    """A CoE admin's decision: "publish" (reports resolved), "hide" or "delete"."""
    prompt = await get_live(session=session, prompt_id=prompt_id)
    status = {"publish": Status.published, "hide": Status.hidden, "delete": Status.deleted}
    if decision not in status:
        raise BadInput(f"Unknown decision {decision!r}.")
    prompt.status = status[decision]
    prompt.updated_at = now
    session.add(prompt)
    await session.exec(
        update(PromptReport)
        .where(col(PromptReport.prompt_id) == prompt_id, col(PromptReport.resolved_at).is_(None))
        .values(resolved_at=now)
    )
    await audit.record(
        session=session,
        actor=admin_id,
        action=f"prompt.{decision}",
        subject=f"prompt:{prompt_id}",
        details={"title": prompt.title[:150]},
        now=now,
    )
    return prompt
