"""Survey results: rates, distributions, averages, NPS, change against the previous run.

Group-size rules hold everywhere results leave the database (Slack, exports, the API):
scores for a group are shown only from `min_group` respondents, free text of an anonymous
survey only from `min_text`, and a breakdown never leaves a hidden remainder small enough
to be worked out by subtracting the shown groups from the total.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.models import SurveyResponse, SurveyRun
from bot.services.survey_definitions import QuestionType, SurveyDefinition, SurveyQuestion


@dataclass(slots=True)
class QuestionResult:
    question: SurveyQuestion
    answered: int
    counts: Counter[str] = field(default_factory=Counter)
    mean: float | None = None
    nps: float | None = None
    texts: list[str] = field(default_factory=list)
    texts_hidden: bool = False


@dataclass(slots=True)
class RunResults:
    respondents: int
    audience: int
    questions: list[QuestionResult]
    by_team: dict[str, dict[str, float | None]]  # team -> question id -> mean (or NPS)
    hidden_teams: int

    @property
    def response_rate(self) -> float:
        return self.respondents / self.audience if self.audience else 0.0


def nps(scores: Sequence[int]) -> float | None:
    if not scores:
        return None
    promoters = sum(1 for s in scores if s >= 9)
    detractors = sum(1 for s in scores if s <= 6)
    return 100.0 * (promoters - detractors) / len(scores)


def _score(question: SurveyQuestion, value: Any) -> int | None:
    if not isinstance(value, int):
        return None
    if question.type == QuestionType.likert and question.reverse:
        return 6 - value
    return value


def summarise(
    question: SurveyQuestion, answers: list[dict[str, Any]], *, show_text: bool
) -> QuestionResult:
    values = [a.get(question.id) for a in answers if a.get(question.id) not in (None, "", [])]
    result = QuestionResult(question=question, answered=len(values))
    if question.type in {QuestionType.likert, QuestionType.nps}:
        scores = [s for s in (_score(question, v) for v in values) if s is not None]
        result.counts = Counter(str(v) for v in values)
        if question.type == QuestionType.nps:
            result.nps = nps(scores)
        result.mean = sum(scores) / len(scores) if scores else None
    elif question.type == QuestionType.single:
        result.counts = Counter(str(v) for v in values)
    elif question.type == QuestionType.multi:
        result.counts = Counter(str(o) for v in values for o in (v if isinstance(v, list) else []))
    else:
        result.texts_hidden = not show_text
        result.texts = [] if result.texts_hidden else [str(v) for v in values]
    return result


def compute(
    definition: SurveyDefinition,
    responses: Sequence[tuple[str | None, dict[str, Any]]],
    *,
    audience: int,
    min_group: int,
    min_text: int,
) -> RunResults:
    """`responses` are (team, answers) pairs; nothing here knows who answered."""
    answers = [a for _, a in responses]
    enough_for_text = not definition.anonymous or len(answers) >= min_text
    enough = len(answers) >= min_group or not definition.anonymous
    questions = [summarise(q, answers, show_text=enough_for_text) for q in definition.questions]
    if not enough:
        for result in questions:
            result.counts, result.mean, result.nps = Counter(), None, None
    by_team, hidden = _breakdown(definition, responses, min_group)
    return RunResults(
        respondents=len(answers),
        audience=audience,
        questions=questions,
        by_team=by_team,
        hidden_teams=hidden,
    )


def _breakdown(
    definition: SurveyDefinition,
    responses: Sequence[tuple[str | None, dict[str, Any]]],
    min_group: int,
) -> tuple[dict[str, dict[str, float | None]], int]:
    groups: dict[str, list[dict[str, Any]]] = {}
    for team, answers in responses:
        groups.setdefault(team or "no team", []).append(answers)
    shown = sorted(
        (t for t, g in groups.items() if len(g) >= min_group), key=lambda t: len(groups[t])
    )
    hidden_total = sum(len(g) for t, g in groups.items() if t not in shown)
    while shown and 0 < hidden_total < min_group:  # no subtracting your way to a small group
        hidden_total += len(groups[shown.pop(0)])
    scored = [q for q in definition.questions if q.type in {QuestionType.likert, QuestionType.nps}]
    table: dict[str, dict[str, float | None]] = {}
    for team in sorted(shown):
        row: dict[str, float | None] = {}
        for question in scored:
            result = summarise(question, groups[team], show_text=False)
            row[question.id] = result.nps if question.type == QuestionType.nps else result.mean
        table[team] = row
    return table, len(groups) - len(table)


def render_lines(
    results: RunResults, previous: RunResults | None, *, min_group: int, min_text: int
) -> list[str]:
    """Results as mrkdwn lines with text bars (user text escaped by the caller's view)."""
    from bot.views.common import escape

    lines = [
        f"*Response rate:* {results.respondents} of {results.audience} "
        f"({100 * results.response_rate:.0f}%)"
    ]
    if results.respondents and not any(r.counts or r.texts for r in results.questions):
        lines.append(f"_Scores are shown from {min_group} respondents._")
    before = {r.question.id: r for r in previous.questions} if previous else {}
    for result in results.questions:
        lines.append(f"\n*{escape(result.question.text)}* ({result.answered} answered)")
        lines += _distribution(result)
        lines += _headline(result, before.get(result.question.id))
        if result.texts_hidden and result.answered:
            lines.append(f"_{result.answered} written answers hidden: shown from {min_text}._")
        lines += [f"> {escape(t[:300])}" for t in result.texts[:20]]
    if results.by_team:
        lines.append("\n*By team*")
        for team, row in results.by_team.items():
            cells = ", ".join(f"{k} {v:.1f}" for k, v in row.items() if v is not None)
            lines.append(f"• {escape(team)}: {cells}")
    if results.hidden_teams:
        lines.append(f"_{results.hidden_teams} group(s) hidden: fewer than {min_group} answers._")
    return lines


def _distribution(result: QuestionResult) -> list[str]:
    if not result.counts:
        return []
    total = sum(result.counts.values())
    keys = (
        [str(v) for v in range(0, 11)]
        if result.question.type == QuestionType.nps
        else [str(v) for v in range(1, 6)]
        if result.question.type == QuestionType.likert
        else list(result.question.options)
    )
    lines = []
    for key in keys:
        count = result.counts.get(key, 0)
        bar = "█" * round(20 * count / total) if total else ""
        lines.append(f"`{key[:28]:<28}` {bar} {count}")
    return lines


def _headline(result: QuestionResult, before: QuestionResult | None) -> list[str]:
    if result.nps is not None:
        change = (
            f" ({result.nps - before.nps:+.0f} since last run)"
            if before and before.nps is not None
            else ""
        )
        return [f"NPS *{result.nps:+.0f}*{change}"]
    if result.mean is not None:
        change = (
            f" ({result.mean - before.mean:+.2f} since last run)"
            if before and before.mean is not None
            else ""
        )
        return [f"Average *{result.mean:.2f}*{change}"]
    return []


async def latest_runs(
    *, session: AsyncSession, survey_id: str, min_group: int, min_text: int, count: int = 2
) -> list[tuple[SurveyRun, RunResults]]:
    """The latest runs of a survey (newest first) with their results."""
    runs = (
        await session.exec(
            select(SurveyRun)
            .where(col(SurveyRun.survey_id) == survey_id)
            .order_by(col(SurveyRun.started_at).desc(), col(SurveyRun.id).desc())
            .limit(count)
        )
    ).all()
    found = []
    for run in runs:
        rows = (
            await session.exec(
                select(SurveyResponse.team, SurveyResponse.answers).where(
                    col(SurveyResponse.run_id) == run.id
                )
            )
        ).all()
        definition = SurveyDefinition.model_validate(run.definition)
        results = compute(
            definition,
            [(t, dict(a)) for t, a in rows],
            audience=run.audience_size,
            min_group=min_group,
            min_text=min_text,
        )
        found.append((run, results))
    return found
