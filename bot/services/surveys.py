"""Surveys: definitions, runs, answers (anonymous by construction), reminders and closing.

Anonymity: for an anonymous survey the response row holds no Slack user ID, only an HMAC
of (run, person) under a server secret. The same person always gets the same key, so they
can change their answers until the run closes and can never be counted twice, while the
key cannot be turned back into a person without the secret.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.db import insert_for
from bot.errors import BadInput, NotAllowed
from bot.models import Survey, SurveyOptOut, SurveyRecipient, SurveyResponse, SurveyRun
from bot.services import audit, survey_disclosure
from bot.services.survey_definitions import QuestionType, SurveyDefinition
from bot.services.text import CONTROL_MESSAGE, has_control_characters
from bot.views.common import escape


class SurveyClosed(NotAllowed):
    def __init__(self, closed: dt.datetime) -> None:
        super().__init__(
            f"Sorry, this survey closed on {closed:%Y-%m-%d %H:%M} UTC; your answer was not saved."
        )


async def save_definition(
    *,
    session: AsyncSession,
    definition: SurveyDefinition,
    source: str,
    actor: str,
    now: dt.datetime,
) -> Survey:
    data = definition.model_dump(mode="json")
    survey = await session.get(Survey, definition.id)
    if survey is None:
        survey = Survey(id=definition.id, title=definition.title, created_at=now, version=0)
    if survey.definition != data:
        survey.version += 1
    survey.title, survey.anonymous, survey.definition = definition.title, definition.anonymous, data
    survey.source, survey.updated_at = source[:300], now
    session.add(survey)
    await audit.record(
        session=session,
        actor=actor,
        action="survey.load",
        subject=definition.id,
        details={"version": survey.version, "source": source[:300]},
        now=now,
    )
    await session.flush()
    return survey


async def has_run(*, session: AsyncSession, survey_id: str, periods: Sequence[str]) -> bool:
    """Whether a run of `survey_id` exists under any of `periods` (run keys)."""
    if not periods:
        return False
    found = await session.exec(
        select(SurveyRun.id).where(
            col(SurveyRun.survey_id) == survey_id, col(SurveyRun.period).in_(list(periods))
        )
    )
    return found.first() is not None


async def get_definition(*, session: AsyncSession, survey_id: str) -> SurveyDefinition:
    survey = await session.get(Survey, survey_id)
    if survey is None:
        raise BadInput(f"There is no survey “{escape(survey_id[:60])}”. Load it first.")
    return SurveyDefinition.model_validate(survey.definition)


async def list_surveys(*, session: AsyncSession) -> Sequence[Survey]:
    return (await session.exec(select(Survey).order_by(col(Survey.id)))).all()


async def runs_of(*, session: AsyncSession, survey_id: str) -> Sequence[SurveyRun]:
    return (
        await session.exec(
            select(SurveyRun)
            .where(col(SurveyRun.survey_id) == survey_id)
            .order_by(col(SurveyRun.started_at).desc())
        )
    ).all()


async def opted_out(*, session: AsyncSession, user_ids: Sequence[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(user_ids), 900):
        chunk = list(user_ids[start : start + 900])
        rows = await session.exec(
            select(SurveyOptOut.user_id).where(col(SurveyOptOut.user_id).in_(chunk))
        )
        found.update(rows.all())
    return found


async def start_run(
    *,
    session: AsyncSession,
    definition: SurveyDefinition,
    period: str,
    audience: Sequence[str],
    started_by: str,
    now: dt.datetime,
    left_out: Mapping[str, str] | None = None,
    requested: SurveyRun | None = None,
) -> SurveyRun | None:
    """Create the run (or start the `requested` one) and one recipient row per person (the
    opted-out aside); None if this period ran already, or the request was started already.
    The people in `left_out` (user ID -> reason: "deactivated", "bot", "guest") get a row
    with status `left_out` and the reason, never a DM, so results can say who was not
    asked. Raises `BadInput` when nobody is left to ask."""
    excluded = await opted_out(session=session, user_ids=audience)
    people = sorted({u for u in audience if u not in excluded})
    if not people:
        raise BadInput(
            "That audience has nobody to ask (everyone opted out, left Slack, or is a bot"
            " or guest); no run created."
        )
    if requested is not None:
        return await _start_requested(
            session, requested, definition, people, left_out, excluded, started_by, now
        )
    stmt = (
        insert_for(session, SurveyRun)
        .values(
            survey_id=definition.id,
            period=period,
            definition=definition.model_dump(mode="json"),
            status="open",
            started_by=started_by,
            started_at=now,
            **_window(definition, now),
            audience_size=len(people),
        )
        .on_conflict_do_nothing()
    )
    if not (await session.exec(stmt)).rowcount:
        return None
    run = (
        await session.exec(
            select(SurveyRun).where(
                col(SurveyRun.survey_id) == definition.id, col(SurveyRun.period) == period
            )
        )
    ).one()
    await _add_recipients(session, run, people, left_out, excluded, started_by, now)
    return run


def _window(definition: SurveyDefinition, now: dt.datetime) -> dict[str, Any]:
    """A run's dates from its start: when it closes and when the one reminder goes (UTC)."""
    return {
        "closes_at": now + dt.timedelta(days=definition.window_days),
        "remind_at": (
            now + dt.timedelta(days=definition.reminder_after_days)
            if definition.reminder_after_days
            else None
        ),
    }


async def _start_requested(
    session: AsyncSession,
    run: SurveyRun,
    definition: SurveyDefinition,
    people: list[str],
    left_out: Mapping[str, str] | None,
    excluded: set[str],
    started_by: str,
    now: dt.datetime,
) -> SurveyRun | None:
    changed = await session.exec(
        update(SurveyRun)
        .where(col(SurveyRun.id) == run.id, col(SurveyRun.status) == REQUESTED)
        .values(
            status="open",
            started_at=now,
            **_window(definition, now),
            audience_size=len(people),
        )
        .execution_options(synchronize_session=False)
    )
    if not changed.rowcount:
        return None
    started = (await session.exec(select(SurveyRun).where(col(SurveyRun.id) == run.id))).one()
    await _add_recipients(session, started, people, left_out, excluded, started_by, now)
    return started


async def _add_recipients(
    session: AsyncSession,
    run: SurveyRun,
    people: list[str],
    left_out: Mapping[str, str] | None,
    excluded: set[str],
    started_by: str,
    now: dt.datetime,
) -> None:
    definition_id, period = run.survey_id, run.period
    rows = [
        {"run_id": run.id, "user_id": u, "status": "pending", "attempts": 0, "next_attempt_at": now}
        for u in people
    ] + [
        {
            "run_id": run.id,
            "user_id": u,
            "status": "left_out",
            "attempts": 0,
            "next_attempt_at": now,
            "last_error": reason,
        }
        for u, reason in sorted((left_out or {}).items())
        if u not in excluded
    ]
    for start in range(0, len(rows), 1000):
        await session.exec(insert_for(session, SurveyRecipient), params=rows[start : start + 1000])
    await audit.record(
        session=session,
        actor=started_by,
        action="survey.send",
        subject=definition_id,
        details={
            "run": run.id,
            "period": period,
            "audience": len(people),
            "left_out": dict(Counter((left_out or {}).values())),
        },
        now=now,
    )


REQUESTED = "requested"  # a run asked for outside the server (`coe-bot surveys send`)


async def request_run(
    *,
    session: AsyncSession,
    definition: SurveyDefinition,
    requested_by: str,
    now: dt.datetime,
) -> SurveyRun:
    """Queue a run for the serving app to start (it resolves the audience through Slack,
    which the command line cannot reach): a `survey_run` row in status `requested`, with
    the definition (and the audience chosen) as it is now. Audited as `survey.request`."""
    run = SurveyRun(
        survey_id=definition.id,
        period=f"manual:{now:%Y-%m-%dT%H:%M:%S.%f}",
        definition=definition.model_dump(mode="json"),
        status=REQUESTED,
        started_by=requested_by,
        started_at=now,
        closes_at=now + dt.timedelta(days=definition.window_days),
        audience_size=0,
    )
    session.add(run)
    await session.flush()
    await audit.record(
        session=session,
        actor=requested_by,
        action="survey.request",
        subject=definition.id,
        details={"run": run.id},
        now=now,
    )
    return run


async def requested_runs(*, session: AsyncSession) -> Sequence[SurveyRun]:
    return (
        await session.exec(
            select(SurveyRun).where(col(SurveyRun.status) == REQUESTED).order_by(col(SurveyRun.id))
        )
    ).all()


# Why an invitation could not reach someone, from the recipient row's last error.
LOCAL_HOUR = "waiting for local hour"  # last_error of a row held for the person's hour
UNREACHED = {
    "deactivated": "deactivated",
    "user_not_found": "not in this workspace",
    "user_disabled": "deactivated",
    "bot": "a bot",
    "cannot_dm_bot": "a bot",
}


@dataclass(slots=True)
class Delivery:
    """How far a run's invitations got: `asked` people, `reached` (the DM went), `waiting`
    (not sent yet, or being retried), `unreached` by reason ("deactivated", "a bot",
    "other errors"), and `left_out` before asking, by reason ("deactivated", "bot",
    "guest"). The response rate's denominator is `reached`."""

    asked: int
    reached: int = 0
    waiting: int = 0
    unreached: dict[str, int] = field(default_factory=dict)
    left_out: dict[str, int] = field(default_factory=dict)
    local_hour: int = 0  # of `waiting`: held for the hour the survey names, their time
    next_at: dt.datetime | None = None  # UTC: when the next waiting invitation is due

    @property
    def not_reached(self) -> int:
        return sum(self.unreached.values())


async def delivery(*, session: AsyncSession, run: SurveyRun) -> Delivery:
    """Count `run`'s recipient rows by how their invitation went (one GROUP BY; counts
    only, nothing about who)."""
    rows = await session.exec(
        select(SurveyRecipient.status, SurveyRecipient.last_error, func.count())
        .where(col(SurveyRecipient.run_id) == run.id)
        .group_by(col(SurveyRecipient.status), col(SurveyRecipient.last_error))
    )
    result = Delivery(asked=run.audience_size)
    for status, error, count in rows.all():
        if status == "left_out":
            result.left_out[str(error)] = result.left_out.get(str(error), 0) + count
        elif status in {"sent", "answered"}:
            result.reached += count
        elif status == "failed":
            reason = UNREACHED.get(str(error), "other errors")
            result.unreached[reason] = result.unreached.get(reason, 0) + count
        else:
            result.waiting += count
            if error == LOCAL_HOUR:
                result.local_hour += count
    if result.waiting:
        result.next_at = (
            await session.exec(
                select(func.min(SurveyRecipient.next_attempt_at)).where(
                    col(SurveyRecipient.run_id) == run.id,
                    col(SurveyRecipient.status).in_(["pending", "sending"]),
                )
            )
        ).first()
    return result


def respondent_key(secret: bytes, run_id: int, user_id: str) -> str:
    return hmac.new(secret, f"{run_id}:{user_id}".encode(), hashlib.sha256).hexdigest()


def check_answers(definition: SurveyDefinition, answers: dict[str, Any]) -> dict[str, str]:
    """Problems per question id (for the modal's field errors); empty when all is well."""
    problems: dict[str, str] = {}
    for question in definition.questions:
        value = answers.get(question.id)
        if value in (None, "", []):
            if question.required:
                problems[question.id] = "Please answer this question."
            continue
        if question.type == QuestionType.likert and value not in range(1, 6):
            problems[question.id] = "Choose a value from 1 to 5."
        elif question.type == QuestionType.nps and value not in range(0, 11):
            problems[question.id] = "Choose a value from 0 to 10."
        elif question.type == QuestionType.single and value not in question.options:
            problems[question.id] = "Choose one of the options."
        elif question.type == QuestionType.multi and (
            not isinstance(value, list) or not set(value) <= set(question.options)
        ):
            problems[question.id] = "Choose among the options."
        elif question.type == QuestionType.text and not isinstance(value, str):
            problems[question.id] = "Please write your answer as text."
        elif question.type == QuestionType.text and len(value) > 3000:
            problems[question.id] = "Please keep it under 3,000 characters."
        elif question.type == QuestionType.text and has_control_characters(value):
            problems[question.id] = f"Your answer {CONTROL_MESSAGE}"
    return problems


async def submit(
    *,
    session: AsyncSession,
    run_id: int,
    user_id: str,
    answers: dict[str, Any],
    team: str | None,
    secret: bytes,
    now: dt.datetime,
) -> bool:
    """Store or replace this person's answers; True when they replaced earlier ones."""
    run = await session.get(SurveyRun, run_id)
    if run is None:
        raise BadInput("That survey no longer exists.")
    if run.status != "open" or now >= run.closes_at:
        raise SurveyClosed(run.closes_at)
    definition = SurveyDefinition.model_validate(run.definition)
    problems = check_answers(definition, answers)
    if problems:
        raise BadInput(next(iter(problems.values())))
    clean = {q.id: answers.get(q.id) for q in definition.questions if q.id in answers}
    key = respondent_key(secret, run_id, user_id)
    existing = (
        await session.exec(
            select(SurveyResponse).where(
                col(SurveyResponse.run_id) == run_id, col(SurveyResponse.respondent_key) == key
            )
        )
    ).first()
    if existing is not None:
        existing.answers, existing.updated_at, existing.team = clean, now, team
        session.add(existing)
    else:
        session.add(
            SurveyResponse(
                run_id=run_id,
                respondent_key=key,
                user_id=None if definition.anonymous else user_id,
                team=team,
                answers=clean,
                submitted_at=now,
                updated_at=now,
            )
        )
        await session.exec(
            update(SurveyRecipient)
            .where(col(SurveyRecipient.run_id) == run_id, col(SurveyRecipient.user_id) == user_id)
            .values(status="answered")
        )
    return existing is not None


async def previous_answers(
    *, session: AsyncSession, run_id: int, user_id: str, secret: bytes
) -> dict[str, Any]:
    key = respondent_key(secret, run_id, user_id)
    found = (
        await session.exec(
            select(SurveyResponse.answers).where(
                col(SurveyResponse.run_id) == run_id, col(SurveyResponse.respondent_key) == key
            )
        )
    ).first()
    return dict(found or {})


async def opt_out(*, session: AsyncSession, user_id: str, now: dt.datetime) -> None:
    stmt = insert_for(session, SurveyOptOut).values(user_id=user_id, created_at=now)
    await session.exec(stmt.on_conflict_do_nothing())
    await session.exec(
        update(SurveyRecipient)
        .where(col(SurveyRecipient.user_id) == user_id, col(SurveyRecipient.status) == "pending")
        .values(status="failed", last_error="opted_out")
    )


async def close_due(
    *, session: AsyncSession, now: dt.datetime, rules: survey_disclosure.Rules
) -> list[SurveyRun]:
    """Close the runs whose window has ended, and seal each anonymous one
    (`survey_disclosure.seal`: nobody can link its answers to people after this)."""
    due = (
        await session.exec(
            select(SurveyRun).where(
                col(SurveyRun.status) == "open", col(SurveyRun.closes_at) <= now
            )
        )
    ).all()
    closed: list[SurveyRun] = []
    for run in due:
        changed = await session.exec(
            update(SurveyRun)
            .where(col(SurveyRun.id) == run.id, col(SurveyRun.status) == "open")
            .values(status="closed", closed_at=now)
        )
        if changed.rowcount:
            closed.append(run)
            await survey_disclosure.seal(session=session, run=run, rules=rules)
            await audit.record(
                session=session,
                actor="system",
                action="survey.close",
                subject=run.survey_id,
                details={"run": run.id},
                now=now,
            )
    return closed


async def start_reminders(*, session: AsyncSession, now: dt.datetime) -> int:
    """Mark non-respondents of runs whose reminder is due; each run reminds once."""
    due = (
        await session.exec(
            select(SurveyRun).where(
                col(SurveyRun.status) == "open",
                col(SurveyRun.remind_at) <= now,
                col(SurveyRun.reminded_at).is_(None),
            )
        )
    ).all()
    marked = 0
    for run in due:
        changed = await session.exec(
            update(SurveyRun)
            .where(col(SurveyRun.id) == run.id, col(SurveyRun.reminded_at).is_(None))
            .values(reminded_at=now)
        )
        if not changed.rowcount:
            continue
        result = await session.exec(
            update(SurveyRecipient)
            .where(col(SurveyRecipient.run_id) == run.id, col(SurveyRecipient.status) == "sent")
            .values(reminder_status="pending", next_attempt_at=now)
        )
        marked += result.rowcount
    return marked
