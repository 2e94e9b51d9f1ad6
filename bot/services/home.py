"""What App Home shows: a person's own open questions, surveys and prompts; for CoE
admins also the open question queue, survey response rates and the policy review date."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.models import (
    ChannelState,
    JobRun,
    Person,
    Prompt,
    Question,
    SurveyRecipient,
    SurveyRun,
)
from bot.services import people, survey_disclosure, surveys
from bot.services.prompts import Status


@dataclass(slots=True)
class PersonalHome:
    """The newest few of each, and how many there are in all (App Home shows the counts)."""

    my_questions: Sequence[Question]
    waiting_surveys: Sequence[SurveyRun]
    my_prompts: Sequence[Prompt]
    questions_total: int = 0
    surveys_total: int = 0
    prompts_total: int = 0


@dataclass(slots=True)
class RunRate:
    run: SurveyRun
    answered: int
    reached: int  # the rate's denominator: the people the invitation reached


@dataclass(slots=True)
class Directory:
    """The people directory at a glance: counts, and when `users.list` was last read whole."""

    people: int = 0
    deactivated: int = 0
    bots: int = 0
    guests: int = 0
    synced_at: dt.datetime | None = None


@dataclass(slots=True)
class AdminHome:
    open_questions: Sequence[Question]
    open_count: int
    runs: list[RunRate] = field(default_factory=list)
    directory: Directory = field(default_factory=Directory)
    closed_channels: list[ChannelState] = field(default_factory=list)  # oldest closing first


SHOWN = 5  # of each list on a person's App Home; the counts say how many in all


async def personal(*, session: AsyncSession, user_id: str, now: dt.datetime) -> PersonalHome:
    asked = (col(Question.asker_id) == user_id, col(Question.status).in_(["open", "claimed"]))
    questions = (
        await session.exec(
            select(Question).where(*asked).order_by(col(Question.created_at).desc()).limit(SHOWN)
        )
    ).all()
    invited = (
        col(SurveyRecipient.user_id) == user_id,
        col(SurveyRecipient.status) == "sent",
        col(SurveyRun.status) == "open",
        col(SurveyRun.closes_at) > now,
    )
    joined = col(SurveyRecipient.run_id) == col(SurveyRun.id)
    surveys = (
        await session.exec(
            select(SurveyRun).join(SurveyRecipient, joined).where(*invited).limit(SHOWN)
        )
    ).all()
    mine = (col(Prompt.author_id) == user_id, col(Prompt.status) != Status.deleted)
    prompts = (
        await session.exec(
            select(Prompt).where(*mine).order_by(col(Prompt.updated_at).desc()).limit(SHOWN)
        )
    ).all()

    async def count(query: Any) -> int:
        return int((await session.exec(query)).one())

    return PersonalHome(
        my_questions=questions,
        waiting_surveys=surveys,
        my_prompts=prompts,
        questions_total=await count(select(func.count()).select_from(Question).where(*asked)),
        surveys_total=await count(
            select(func.count())
            .select_from(SurveyRun)
            .join(SurveyRecipient, joined)
            .where(*invited)
        ),
        prompts_total=await count(select(func.count()).select_from(Prompt).where(*mine)),
    )


async def admin(*, session: AsyncSession) -> AdminHome:
    open_filter = col(Question.status).in_(["open", "claimed"])
    oldest = (
        await session.exec(
            select(Question).where(open_filter).order_by(col(Question.created_at)).limit(10)
        )
    ).all()
    count = (
        await session.exec(select(func.count()).select_from(Question).where(open_filter))
    ).one()
    home = AdminHome(open_questions=oldest, open_count=int(count))
    runs = (
        await session.exec(select(SurveyRun).order_by(col(SurveyRun.started_at).desc()).limit(5))
    ).all()
    for run in runs:
        answered = await survey_disclosure.participation(session=session, run=run)
        went = await surveys.delivery(session=session, run=run)
        home.runs.append(RunRate(run=run, answered=answered, reached=went.reached))
    home.directory = await directory(session=session)
    home.closed_channels = list(
        (
            await session.exec(
                select(ChannelState)
                .where(col(ChannelState.closed).is_not(None))
                .order_by(col(ChannelState.changed_at))
                .limit(10)
            )
        ).all()
    )
    return home


async def directory(*, session: AsyncSession) -> Directory:
    """Counts from the people directory (one aggregate query) and its last full sync."""
    everyone, deactivated, bots, guests = (
        await session.exec(
            select(
                func.count(),
                func.count().filter(col(Person.deleted)),
                func.count().filter(col(Person.is_bot), ~col(Person.deleted)),
                func.count().filter(col(Person.is_guest), ~col(Person.deleted)),
            ).select_from(Person)
        )
    ).one()
    synced = (
        await session.exec(
            select(JobRun.started_at)
            .where(col(JobRun.job) == people.DIRECTORY_SYNC)
            .order_by(col(JobRun.started_at).desc())
            .limit(1)
        )
    ).first()
    return Directory(int(everyone), int(deactivated), int(bots), int(guests), synced)
