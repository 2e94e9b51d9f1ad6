"""Weekly digests: subscriptions, when each is due, and what a period's digest says.

A digest is built from what happened in its period: new and top prompts, questions asked
and answered (with the median time to answer and those still open past their deadline),
survey participation and headline scores, policy pack changes, thanks to champions whose
answers were rated helpful, and one policy rule as "did you know". Empty sections are left
out; a period with nothing at all posts nothing.
"""

from __future__ import annotations

import datetime as dt
import re
import statistics
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot import schedules
from bot.errors import BadInput
from bot.models import (
    AuditEvent,
    DigestSubscription,
    Prompt,
    PromptUser,
    PromptVote,
    Question,
    SurveyRun,
)
from bot.services import (
    audit,
    guardrails,
    survey_disclosure,
    surveys,
    tool_figures,
    usage_figures,
)
from bot.services.policy_pack import PolicyPack, Rule
from bot.services.prompts import Status, wilson_lower_bound
from bot.services.survey_disclosure import Rules
from bot.views.common import escape

SECTIONS = ("prompts", "questions", "surveys", "adoption", "policy", "champions", "tip")
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
PERIOD = dt.timedelta(days=7)
NEWEST_SHOWN = 5  # new prompts listed by title; the rest are counted
GRACE = dt.timedelta(hours=6)  # a digest missed while the bot was down goes out within this


@dataclass(slots=True)
class Digest:
    period_start: dt.datetime
    period_end: dt.datetime
    new_prompts: list[Prompt] = field(default_factory=list)  # the newest NEWEST_SHOWN
    new_prompt_count: int = 0  # all published in the period
    top_prompts: list[Prompt] = field(default_factory=list)
    asked: int = 0
    answered: int = 0
    median_hours_to_answer: float | None = None
    overdue: int = 0
    survey_lines: list[str] = field(default_factory=list)
    policy_changes: list[str] = field(default_factory=list)
    thanked: list[tuple[str, int]] = field(default_factory=list)
    adoption: dict[str, Any] | None = None  # Copilot, organisation-wide (usage_figures.totals)
    # Cursor and Claude Code, organisation-wide: (tool, tool_figures.totals), pulled ones only
    tools: list[tuple[tool_figures.Tool, dict[str, Any]]] = field(default_factory=list)
    notes: list[tuple[str, str]] = field(default_factory=list)  # this month's: (team, text)
    tip: Rule | None = None

    @property
    def has_news(self) -> bool:
        """A tip alone is not news: a period with nothing else posts nothing."""
        return bool(
            self.new_prompts
            or self.top_prompts
            or self.asked
            or self.answered
            or self.survey_lines
            or self.policy_changes
            or self.thanked
            or self.adoption
            or self.tools
        )


def parse_schedule(words: list[str]) -> tuple[int, str, str, list[str]]:
    """`weekly mon 09:00 Europe/Paris [sections…]` -> weekday, time, zone, sections."""
    if len(words) < 4 or words[0] != "weekly":
        raise BadInput("Say when: `weekly mon 09:00 Europe/Paris [prompts questions …]`.")
    day, time_text, zone = words[1].lower()[:3], words[2], words[3]
    if day not in DAYS:
        raise BadInput(f"“{escape(day)}” is not a weekday (mon … sun).")
    match = re.fullmatch(r"(\d{1,2}):(\d{2})", time_text)
    if not match or int(match[1]) > 23 or int(match[2]) > 59:
        raise BadInput(f"“{escape(time_text[:10])}” is not a time like 09:00.")
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise BadInput(f"“{escape(zone[:60])}” is not a time zone (like Europe/Paris).") from None
    sections = [s.lower() for s in words[4:]] or list(SECTIONS)
    unknown = [s for s in sections if s not in SECTIONS]
    if unknown:
        raise BadInput(f"Unknown section “{unknown[0][:30]}”; choose from {', '.join(SECTIONS)}.")
    return DAYS.index(day), f"{int(match[1]):02d}:{match[2]}", zone, sections


async def subscribe(
    *, session: AsyncSession, channel_id: str, words: list[str], actor: str, now: dt.datetime
) -> DigestSubscription:
    weekday, time_of_day, zone, sections = parse_schedule(words)
    found = (
        await session.exec(
            select(DigestSubscription).where(col(DigestSubscription.channel_id) == channel_id)
        )
    ).first()
    subscription = found or DigestSubscription(
        channel_id=channel_id,
        weekday=weekday,
        time_of_day=time_of_day,
        timezone=zone,
        created_by=actor,
        created_at=now,
    )
    subscription.weekday, subscription.time_of_day, subscription.timezone = (
        weekday,
        time_of_day,
        zone,
    )
    subscription.sections, subscription.status, subscription.paused_reason = (
        sections,
        "active",
        None,
    )
    session.add(subscription)
    await audit.record(
        session=session,
        actor=actor,
        action="digest.subscribe",
        subject=channel_id,
        details={"weekday": weekday, "time": time_of_day, "timezone": zone, "sections": sections},
        now=now,
    )
    await session.flush()
    return subscription


async def unsubscribe(
    *, session: AsyncSession, channel_id: str, actor: str, now: dt.datetime
) -> None:
    found = (
        await session.exec(
            select(DigestSubscription).where(col(DigestSubscription.channel_id) == channel_id)
        )
    ).first()
    if found is None:
        raise BadInput(f"<#{channel_id}> has no digest subscription.")
    await session.delete(found)
    await audit.record(
        session=session, actor=actor, action="digest.unsubscribe", subject=channel_id, now=now
    )


async def resume(
    *, session: AsyncSession, channel_id: str, actor: str, now: dt.datetime
) -> DigestSubscription:
    """Restart a paused digest as it was (its day, time, zone and sections); audited as
    `digest.resume`. Raises `BadInput` when the channel has no subscription."""
    found = (
        await session.exec(
            select(DigestSubscription).where(col(DigestSubscription.channel_id) == channel_id)
        )
    ).first()
    if found is None:
        raise BadInput(f"<#{channel_id}> has no digest subscription; nothing was changed.")
    found.status, found.paused_reason = "active", None
    session.add(found)
    await audit.record(
        session=session, actor=actor, action="digest.resume", subject=channel_id, now=now
    )
    return found


async def pause(*, session: AsyncSession, channel_id: str, reason: str) -> bool:
    """Pause a channel's digest (it cannot be posted there); True if it was active."""
    found = (
        await session.exec(
            select(DigestSubscription).where(
                col(DigestSubscription.channel_id) == channel_id,
                col(DigestSubscription.status) == "active",
            )
        )
    ).first()
    if found is None:
        return False
    found.status, found.paused_reason = "paused", reason[:100]
    session.add(found)
    return True


async def listing(*, session: AsyncSession) -> Sequence[DigestSubscription]:
    return (
        await session.exec(select(DigestSubscription).order_by(col(DigestSubscription.id)))
    ).all()


def due_period(subscription: DigestSubscription, now: dt.datetime) -> schedules.Fire | None:
    """The latest weekly occurrence (weekday and local time in the subscription's zone) at
    or before `now`, if within the grace window; cron's rules across clock changes."""
    hour, minute = (int(x) for x in subscription.time_of_day.split(":"))
    cron = schedules.weekly_cron(subscription.weekday, hour, minute)
    return schedules.latest_fire(cron, ZoneInfo(subscription.timezone), now, GRACE)


async def build(
    *,
    session: AsyncSession,
    start: dt.datetime,
    end: dt.datetime,
    sections: Sequence[str],
    pack: PolicyPack,
    min_group: int = 5,
) -> Digest:
    """The digest of `start` … `end` (UTC) with `sections`; `min_group` (SURVEY_MIN_GROUP)
    is the fewest people whose Copilot figures are shown."""
    digest = Digest(period_start=start, period_end=end)
    if "prompts" in sections:
        await _prompts(session, digest)
    if "questions" in sections:
        await _questions(session, digest)
    if "surveys" in sections:
        await _surveys(session, digest)
    if "adoption" in sections:
        last = end.date() - dt.timedelta(days=1)  # the seven whole UTC days before the post
        digest.adoption = await usage_figures.totals(
            session=session,
            first=last - dt.timedelta(days=6),
            last=last,
            min_group=min_group,
            seats_as_of=end.date(),
        )
        for tool in tool_figures.TOOLS.values():
            figures = await tool_figures.totals(
                session=session,
                tool=tool,
                first=last - dt.timedelta(days=6),
                last=last,
                min_group=min_group,
            )
            if figures is not None:
                digest.tools.append((tool, figures))
        if digest.adoption is not None or digest.tools:
            month = guardrails.month_of(last).label
            noted = await guardrails.notes_for(session=session, month=month)
            if noted:  # only beside a team with figures of its own: never a merged team's
                rules = Rules(min_group=min_group, min_text=min_group)
                shown = await guardrails.labels_with_figures(session=session, rules=rules, day=last)
                digest.notes = sorted((t, x) for t, x in noted.items() if t in shown)
    if "policy" in sections:
        await _policy(session, digest)
    if "champions" in sections:
        await _champions(session, digest)
    if "tip" in sections and pack.rules:
        digest.tip = pack.rules[int(start.timestamp() // PERIOD.total_seconds()) % len(pack.rules)]
    return digest


async def _prompts(session: AsyncSession, digest: Digest) -> None:
    window = (digest.period_start, digest.period_end)
    new = select(Prompt).where(
        col(Prompt.status) == Status.published, col(Prompt.created_at).between(*window)
    )
    digest.new_prompts = list(
        (await session.exec(new.order_by(col(Prompt.created_at).desc()).limit(NEWEST_SHOWN))).all()
    )
    digest.new_prompt_count = len(digest.new_prompts)
    if digest.new_prompt_count == NEWEST_SHOWN:
        counted = select(func.count()).select_from(new.subquery())
        digest.new_prompt_count = int((await session.exec(counted)).one())
    people = dict(
        (
            await session.exec(
                select(PromptUser.prompt_id, func.count())
                .where(col(PromptUser.first_used_at).between(*window))
                .group_by(col(PromptUser.prompt_id))
            )
        ).all()
    )
    votes = dict(
        (
            await session.exec(
                select(PromptVote.prompt_id, func.count())
                .where(col(PromptVote.created_at).between(*window))
                .group_by(col(PromptVote.prompt_id))
            )
        ).all()
    )
    ranked = sorted(
        set(people) | set(votes),
        key=lambda i: (-wilson_lower_bound(votes.get(i, 0), people.get(i, 0)), i),
    )[:15]
    if ranked:
        found = {
            p.id: p
            for p in await session.exec(
                select(Prompt).where(
                    col(Prompt.id).in_(ranked), col(Prompt.status) == Status.published
                )
            )
        }
        digest.top_prompts = [found[i] for i in ranked if i in found][:3]


async def _questions(session: AsyncSession, digest: Digest) -> None:
    window = (digest.period_start, digest.period_end)
    digest.asked = int(
        (
            await session.exec(
                select(func.count())
                .select_from(Question)
                .where(
                    col(Question.created_at).between(*window), col(Question.reused_from).is_(None)
                )
            )
        ).one()
    )
    answered = (
        await session.exec(
            select(Question.created_at, Question.answered_at).where(
                col(Question.answered_at).between(*window)
            )
        )
    ).all()
    digest.answered = len(answered)
    hours = [(b - a).total_seconds() / 3600 for a, b in answered if a and b]
    digest.median_hours_to_answer = statistics.median(hours) if hours else None
    digest.overdue = int(
        (
            await session.exec(
                select(func.count())
                .select_from(Question)
                .where(
                    col(Question.status).in_(["open", "claimed"]),
                    col(Question.answer_deadline) < digest.period_end,
                )
            )
        ).one()
    )


async def _surveys(session: AsyncSession, digest: Digest) -> None:
    runs = (
        await session.exec(
            select(SurveyRun).where(
                col(SurveyRun.started_at) < digest.period_end,
                col(SurveyRun.closes_at) >= digest.period_start,
            )
        )
    ).all()
    for run in runs[:3]:
        answered = await survey_disclosure.participation(session=session, run=run)
        reached = (await surveys.delivery(session=session, run=run)).reached
        if reached:
            title = str(run.definition.get("title", run.survey_id))
            digest.survey_lines.append(
                f"{title}: {answered} of {reached} answered "
                f"({100 * answered / reached:.0f}%)"
                + (" — still open, your voice counts" if run.status == "open" else "")
            )


async def _policy(session: AsyncSession, digest: Digest) -> None:
    loads = (
        await session.exec(
            select(AuditEvent)
            .where(
                col(AuditEvent.action) == "policy.load",
                col(AuditEvent.at).between(digest.period_start, digest.period_end),
            )
            .order_by(col(AuditEvent.at))
        )
    ).all()
    before = (
        await session.exec(
            select(AuditEvent)
            .where(
                col(AuditEvent.action) == "policy.load", col(AuditEvent.at) < digest.period_start
            )
            .order_by(col(AuditEvent.at).desc())
            .limit(1)
        )
    ).first()
    version = before.details.get("version") if before else None
    for event in loads:  # the first load ever is no change
        new = event.details.get("version")
        if version is not None and new != version:
            digest.policy_changes.append(f"version {version} → {new}")
        version = new


async def _champions(session: AsyncSession, digest: Digest) -> None:
    rows = (
        await session.exec(
            select(Question.answered_by).where(
                col(Question.helpful).is_(True),
                col(Question.answered_at).between(digest.period_start, digest.period_end),
            )
        )
    ).all()
    digest.thanked = Counter(r for r in rows if r).most_common(5)
