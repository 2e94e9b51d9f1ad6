"""The audit log is append-only on PostgreSQL; retention purges old free text only."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlmodel import select

from bot.models import Question, SurveyResponse
from bot.services import retention, surveys
from bot.services.survey_definitions import parse_definition
from tests.conftest import Clock, RunningApp
from tests.helpers import audit_events
from tests.test_api import SURVEY


async def test_the_audit_log_refuses_update_and_delete(
    running: RunningApp, is_postgres: bool
) -> None:
    events = await audit_events(running, "policy.load")
    assert events
    if not is_postgres:
        pytest.skip("the append-only trigger is PostgreSQL's; SQLite has no roles to guard")
    for statement in ("UPDATE audit_event SET actor = 'someone'", "DELETE FROM audit_event"):
        with pytest.raises(DBAPIError, match="append-only"):
            async with running.deps.engine.begin() as conn:
                await conn.execute(text(statement))
    assert [e.actor for e in await audit_events(running, "policy.load")] == [
        e.actor for e in events
    ]


async def test_retention_purges_old_free_text_and_keeps_numbers(
    running: RunningApp, clock: Clock
) -> None:
    old = clock() - dt.timedelta(days=400)
    async with running.deps.sessions.begin() as session:
        session.add(
            Question(
                asker_id="U0ALICE",
                text="secret project X?",
                status="answered",
                answer="use tool Y",
                helpful=True,
                created_at=old,
                answered_at=old,
            )
        )
        session.add(Question(asker_id="U0ALICE", text="recent question", created_at=clock()))
        definition = parse_definition(SURVEY, source="t")
        await surveys.save_definition(
            session=session, definition=definition, source="t", actor="U0ADMIN", now=old
        )
        run = await surveys.start_run(
            session=session,
            definition=definition,
            period="old",
            audience=["U0ALICE"],
            started_by="U0ADMIN",
            now=old,
        )
        assert run is not None
        assert run.id is not None
        await surveys.submit(
            session=session,
            run_id=run.id,
            user_id="U0ALICE",
            answers={"useful": 5, "why": "my manager Bob"},
            team=None,
            secret=b"k",
            now=old,
        )
    async with running.deps.sessions.begin() as session:
        counts = await retention.purge(session=session, days=365, now=clock())
    assert counts == {"questions": 1, "survey_responses": 1}
    async with running.deps.sessions() as session:
        questions = {q.text: q for q in (await session.exec(select(Question))).all()}
        [response] = (await session.exec(select(SurveyResponse))).all()
    assert retention.PURGED in questions
    assert questions[retention.PURGED].helpful is True  # the rating is kept
    assert "recent question" in questions
    assert response.answers == {"useful": 5, "why": retention.PURGED}
    [purge] = await audit_events(running, "retention.purge")
    assert purge.details["questions"] == 1
