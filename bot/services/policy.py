"""Policy lookups and pack (re)loads: the `/ai-policy` domain, free of Slack."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from pathlib import Path

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.db import insert_for
from bot.models import PolicyLookup
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


async def record_lookup(
    *,
    session: AsyncSession,
    request_key: str | None,
    user_id: str,
    team_id: str | None,
    channel_id: str | None,
    answer: PolicyAnswer,
    pack_version: str,
    now: dt.datetime,
) -> bool:
    """Store one lookup; False when this Slack request was already recorded (a retry)."""
    stmt = insert_for(session, PolicyLookup).values(
        request_key=request_key,
        user_id=user_id,
        team_id=team_id,
        channel_id=channel_id,
        query=answer.query[:3000],
        outcome=answer.outcome.value,
        matched=answer.summary(),
        pack_version=pack_version,
        created_at=now,
    )
    result = await session.exec(stmt.on_conflict_do_nothing())
    return bool(result.rowcount)


async def audit_load(
    *, session: AsyncSession, actor: str, active: ActivePolicy, trigger: str, now: dt.datetime
) -> None:
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
