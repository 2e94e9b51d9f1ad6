"""Survey exports (CSV or JSON lines), streamed: every row as `survey_disclosure` releases it.

An anonymous survey's export has no respondent, id or time column (the run's date only) and
only closed runs with enough respondents; teams are the released labels.
"""

from __future__ import annotations

import io
import json
from collections.abc import AsyncIterator
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot import csvsafe
from bot.errors import BadInput
from bot.models import SurveyRun
from bot.services import survey_disclosure
from bot.services.survey_definitions import SurveyDefinition
from bot.services.survey_disclosure import Rules
from bot.views.common import escape


async def export_rows(
    *, session: AsyncSession, survey_id: str, rules: Rules
) -> tuple[list[str], AsyncIterator[dict[str, Any]], list[str]]:
    """Columns, rows and notes of every run of a survey, as `survey_disclosure` releases
    them: a run whose answers may not leave (an open or too small anonymous run) gives no
    rows and a note saying why. Raises `BadInput` when the survey has no runs."""
    runs = (
        await session.exec(
            select(SurveyRun)
            .where(col(SurveyRun.survey_id) == survey_id)
            .order_by(col(SurveyRun.id))
        )
    ).all()
    if not runs:
        raise BadInput(f"Survey “{escape(survey_id[:60])}” has no runs to export.")
    released = [
        await survey_disclosure.release(session=session, run=run, rules=rules) for run in runs
    ]
    notes = [f"run #{r.run.id}: {r.withheld}" for r in released if r.withheld]
    latest = SurveyDefinition.model_validate(runs[-1].definition)
    anonymous = any(r.anonymous for r in released)
    head = ["run", "period", "run_date", "team"] if anonymous else ["run", "period"]
    if not anonymous:
        head += ["id", "submitted_at", "team", "respondent"]
    columns = head + [q.id for q in latest.questions]

    async def rows() -> AsyncIterator[dict[str, Any]]:
        for one in released:
            async for row in survey_disclosure.rows(session=session, released=one):
                yield {"run": one.run.id, "period": one.run.period, **row}

    return columns, rows(), notes


async def to_csv(columns: list[str], rows: AsyncIterator[dict[str, Any]]) -> AsyncIterator[str]:
    buffer = io.StringIO()
    writer = csvsafe.DictWriter(buffer, fieldnames=columns)
    writer.writeheader()
    async for row in rows:
        writer.writerow(row)
        if buffer.tell() > 64_000:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


async def to_json_lines(rows: AsyncIterator[dict[str, Any]]) -> AsyncIterator[str]:
    async for row in rows:
        yield json.dumps(row, ensure_ascii=False) + "\n"
