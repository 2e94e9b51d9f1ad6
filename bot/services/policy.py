"""Policy lookups and pack (re)loads: the `/ai-policy` domain, free of Slack."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.db import insert_for
from bot.models import AuditEvent, PolicyFeedback, PolicyLookup
from bot.services import audit
from bot.services.policy_pack import LoadedPack, load_pack
from bot.services.policy_search import PolicyAnswer, PolicyIndex

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ActivePolicy:
    loaded: LoadedPack
    index: PolicyIndex

    @property
    def version(self) -> str:
        return self.loaded.pack.metadata.version


class PolicyStore:
    """Holds the pack in memory; a reload swaps it in one assignment, or not at all."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._active = _activate(load_pack(path))

    @property
    def active(self) -> ActivePolicy:
        return self._active

    def answer(self, query: str) -> PolicyAnswer:
        return self._active.index.answer(query)

    def load(self) -> ActivePolicy:
        """Read the pack file again; `PackError` leaves the current pack in place."""
        self._active = _activate(load_pack(self.path))
        return self._active


def _activate(loaded: LoadedPack) -> ActivePolicy:
    return ActivePolicy(loaded=loaded, index=PolicyIndex(loaded.pack))


@dataclass(frozen=True, slots=True)
class LookupRecord:
    """One lookup as it will be stored: who asked what, and what it matched."""

    request_key: str | None
    user_id: str
    team_id: str | None
    channel_id: str | None
    answer: PolicyAnswer
    pack_version: str
    at: dt.datetime


async def record_lookups(*, session: AsyncSession, records: Sequence[LookupRecord]) -> None:
    """Store lookups in one statement; a request key seen before (a Slack retry) is skipped."""
    rows: dict[str, dict[str, object]] = {}
    for number, record in enumerate(records):
        key = record.request_key or f"none:{number}"
        rows.setdefault(
            key,
            {
                "request_key": record.request_key,
                "user_id": record.user_id,
                "team_id": record.team_id,
                "channel_id": record.channel_id,
                "query": record.answer.query[:3000],
                "outcome": record.answer.outcome.value,
                "matched": record.answer.summary(),
                "pack_version": record.pack_version,
                "created_at": record.at,
            },
        )
    if not rows:
        return
    # One statement, many parameter sets (executemany): compiled once and cached, where a
    # multi-row VALUES would be compiled afresh for every batch size, on the event loop.
    stmt = insert_for(session, PolicyLookup).on_conflict_do_nothing()
    await session.exec(stmt, params=list(rows.values()))


async def record_feedback(
    *,
    session: AsyncSession,
    user_id: str,
    answer: PolicyAnswer,
    helpful: bool,
    pack_version: str,
    at: dt.datetime,
) -> None:
    """Store one 👍 / 👎 on an answer; the same person voting on the same answer again
    changes their vote rather than adding one."""
    ruling = answer.ruling
    chosen = ",".join(f"{k}={v}" for k, v in sorted(answer.chosen.items()))
    digest = hashlib.sha256(f"{answer.query}|{chosen}".encode()).hexdigest()[:32]
    values = {
        "vote_key": f"{user_id}:{digest}",
        "user_id": user_id,
        "query": answer.query[:3000],
        "intent": answer.intent.value,
        "verdict": answer.verdict,
        "tier": ruling.tier.id if ruling and ruling.tier else None,
        "tier_source": ruling.tier_source if ruling else None,
        "category": ruling.category.id if ruling and ruling.category else None,
        "helpful": helpful,
        "pack_version": pack_version,
        "created_at": at,
    }
    stmt = insert_for(session, PolicyFeedback).values(**values)
    stmt = stmt.on_conflict_do_update(
        index_elements=["vote_key"],
        set_={"helpful": helpful, "created_at": at, "pack_version": pack_version},
    )
    await session.exec(stmt)


async def audit_load(
    *,
    session: AsyncSession,
    actor: str,
    active: ActivePolicy,
    trigger: str,
    now: dt.datetime,
    only_if_changed: bool = False,
) -> bool:
    """Audit a pack load (`policy.load`: version, sha256, source, trigger); True if written.
    With `only_if_changed` (a start-up), nothing is written when the last audited load had
    the same sha256: restarts and replicas do not bury the trail in identical loads."""
    if only_if_changed:
        last = (
            await session.exec(
                select(AuditEvent.details)
                .where(col(AuditEvent.action) == "policy.load")
                .order_by(col(AuditEvent.id).desc())
                .limit(1)
            )
        ).first()
        if last is not None and (last or {}).get("sha256") == active.loaded.sha256:
            return False
    meta = active.loaded.pack.metadata
    await audit.record(
        session=session,
        actor=actor,
        action="policy.load",
        now=now,
        subject=meta.name,
        details={
            "version": meta.version,
            "sha256": active.loaded.sha256,
            "source": active.loaded.source,
            "trigger": trigger,
        },
    )
    return True


async def audit_failed_load(
    *, session: AsyncSession, actor: str, source: str, errors: list[str], now: dt.datetime
) -> None:
    await audit.record(
        session=session,
        actor=actor,
        action="policy.load_failed",
        now=now,
        subject=source,
        details={"errors": errors[:50]},
    )


@dataclass(frozen=True, slots=True)
class ReviewStatus:
    due: dt.date
    overdue_days: int
    period: int  # 0 for the first overdue interval, 1 for the next, ...

    @property
    def overdue(self) -> bool:
        return self.overdue_days >= 0


def review_status(active: ActivePolicy, today: dt.date) -> ReviewStatus:
    """When the pack's review falls due, and which overdue period `today` is in."""
    meta = active.loaded.pack.metadata
    interval = meta.review_interval_days
    due = meta.last_reviewed + dt.timedelta(days=interval)
    overdue_days = (today - due).days
    return ReviewStatus(due=due, overdue_days=overdue_days, period=max(overdue_days, 0) // interval)
