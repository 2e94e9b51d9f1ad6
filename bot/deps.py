"""What every handler and job needs, built once by `bot.app.create_app`."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.cache import TTLCache
from bot.config import Settings
from bot.db import Sessions
from bot.metrics import Metrics
from bot.models import utcnow
from bot.services.admins import AdminDirectory
from bot.services.channels import Places
from bot.services.policy import PolicyStore
from bot.services.questions import Deadlines
from bot.services.teams import TeamDirectory, TeamTiers
from bot.slack import TokenHealth
from bot.tasks import Admission, Background


@dataclass
class Deps:
    settings: Settings
    engine: AsyncEngine
    sessions: Sessions
    policy: PolicyStore
    metrics: Metrics
    client: AsyncWebClient
    sender: AsyncWebClient  # for the outbox worker: no sleeping on 429, see bot.slack
    admins: AdminDirectory
    teams: TeamDirectory
    team_tiers: TeamTiers = field(default_factory=TeamTiers)
    token: TokenHealth = field(default_factory=TokenHealth)  # is our bot token still good?
    background: Background = field(default_factory=Background)
    admission: Admission = field(default_factory=lambda: Admission(limit=16))
    scrub_pending: bool = True  # sealed survey rows may still be in the WAL: scrub next tick
    clock: Callable[[], dt.datetime] = utcnow
    batch_delay: float = 0.1  # how long a lookup may wait to be written with others
    outbox_wakeup: asyncio.Event = field(default_factory=asyncio.Event)
    survey_wakeup: asyncio.Event = field(default_factory=asyncio.Event)
    # Rendered /prompts searches, for 15 s or until a prompt changes in this process.
    prompt_replies: TTLCache[dict[str, Any]] = field(
        default_factory=lambda: TTLCache(ttl=15.0, size=2048)
    )

    def places(self) -> Places:
        """Where CoE posts go: COMMUNITY_CHANNEL, COE_CHANNEL, then the admins by DM."""
        return Places(
            community=self.settings.community_channel,
            coe=self.settings.coe_channel,
            admins=tuple(sorted(self.settings.admin_user_ids)),
        )

    def deadlines(self) -> Deadlines:
        return Deadlines(
            hours=self.settings.working_hours(),
            claim=dt.timedelta(minutes=self.settings.claim_deadline_minutes),
            answer=dt.timedelta(hours=self.settings.answer_deadline_hours),
        )
