"""Survey exports (CSV or JSON lines), streamed, with the anonymity rules applied.

An anonymous survey's export has no respondent column at all; a team is shown only when
that team has at least `min_group` responses in the run, else it reads "(small group)".
"""

from __future__ import annotations

import io
import json
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot import csvsafe
from bot.errors import BadInput
from bot.models import SurveyResponse, SurveyRun
from bot.services.survey_definitions import SurveyDefinition

SMALL_GROUP = "(small group)"


async def export_rows(
    *, session: AsyncSession, survey_id: str, min_group: int
) -> tuple[list[str], AsyncIterator[dict[str, Any]]]:
    runs = (
        await session.exec(
            select(SurveyRun)
            .where(col(SurveyRun.survey_id) == survey_id)
            .order_by(col(SurveyRun.id))
        )
    ).all()
    if not runs:
        raise BadInput(f"Survey “{survey_id[:60]}” has no runs to export.")
    latest = SurveyDefinition.model_validate(runs[-1].definition)
    anonymous = any(SurveyDefinition.model_validate(r.definition).anonymous for r in runs)
    columns = ["run", "period", "submitted_at", "team"]
    if not anonymous:
        columns.insert(2, "respondent")
    columns += [q.id for q in latest.questions]

    async def rows() -> AsyncIterator[dict[str, Any]]:
        for run in runs:
            teams = Counter(
                (
                    await session.exec(
                        select(SurveyResponse.team).where(col(SurveyResponse.run_id) == run.id)
                    )
                ).all()
            )
            stream = await session.stream_scalars(
                select(SurveyResponse)
                .where(col(SurveyResponse.run_id) == run.id)
                .order_by(col(SurveyResponse.id))
                .execution_options(yield_per=1000)
            )
            async for response in stream:
                team = response.team if teams[response.team] >= min_group else SMALL_GROUP
                row: dict[str, Any] = {
                    "run": run.id,
                    "period": run.period,
                    "submitted_at": response.updated_at.isoformat(),
                    "team": team if response.team else None,
                }
                if not anonymous:
                    row["respondent"] = response.user_id
                for question in latest.questions:
                    value = response.answers.get(question.id)
                    row[question.id] = ";".join(value) if isinstance(value, list) else value
                yield row

    return columns, rows()


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
