"""The append-only audit trail. There is deliberately no update or delete here."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.models import AuditEvent


async def record(
    *,
    session: AsyncSession,
    actor: str,
    action: str,
    now: dt.datetime,
    subject: str | None = None,
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    event = AuditEvent(at=now, actor=actor, action=action, subject=subject, details=details or {})
    session.add(event)
    await session.flush()
    return event
