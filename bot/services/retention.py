"""Retention: free text older than N days is purged, counts and scores are kept.

Purged: the text answers of survey responses, and the bodies and answers of questions.
Kept: every row, every number (scores, timings, ratings, counts) and every aggregate
computed from them. Each purge is in the audit log.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.models import Question, SurveyResponse, SurveyRun
from bot.services import audit
from bot.services.survey_definitions import QuestionType, SurveyDefinition

PURGED = "[removed after the retention period]"


async def purge(*, session: AsyncSession, days: int, now: dt.datetime) -> dict[str, int]:
    before = now - dt.timedelta(days=days)
    questions = await session.exec(
        update(Question)
        .where(col(Question.created_at) < before, col(Question.text) != PURGED)
        .values(text=PURGED, answer=PURGED)
        .execution_options(synchronize_session=False)
    )
    answers = 0
    runs = (await session.exec(select(SurveyRun).where(col(SurveyRun.closes_at) < before))).all()
    for run in runs:
        texts = [
            q.id
            for q in SurveyDefinition.model_validate(run.definition).questions
            if q.type == QuestionType.text
        ]
        if not texts:
            continue
        responses = (
            await session.exec(select(SurveyResponse).where(col(SurveyResponse.run_id) == run.id))
        ).all()
        for response in responses:
            if any(response.answers.get(q) not in (None, PURGED) for q in texts):
                response.answers = {
                    k: (PURGED if k in texts and v is not None else v)
                    for k, v in response.answers.items()
                }
                session.add(response)
                answers += 1
    counts = {"questions": int(questions.rowcount), "survey_responses": answers}
    await audit.record(
        session=session,
        actor="system",
        action="retention.purge",
        details={"older_than_days": days, **counts},
        now=now,
    )
    return counts
