"""Survey results: rates, distributions, averages, NPS, change against the previous run.

Computed only from what `survey_disclosure.release` lets leave (its labels, its texts);
on top of that, scores for a group are shown only from `min_group` respondents, and a
breakdown never leaves a hidden remainder small enough to be worked out by subtraction.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.models import SurveyRun
from bot.services import survey_disclosure, surveys
from bot.services.survey_definitions import QuestionType, SurveyDefinition, SurveyQuestion
from bot.services.survey_disclosure import Released, Rules
from bot.services.surveys import Delivery


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
    delivery: Delivery | None = None  # how far the invitations got (`released_results`)

    @property
    def reached(self) -> int:
        """The response rate's denominator: the people the invitation reached (everyone
        asked, when delivery is not known)."""
        return self.delivery.reached if self.delivery is not None else self.audience

    @property
    def response_rate(self) -> float:
        return self.respondents / self.reached if self.reached else 0.0


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
    shown: Collection[str] | None = None,
) -> RunResults:
    """`responses` are (team, answers) pairs; nothing here knows who answered. `shown`
    names the questions whose answers may be shown (`Released.shown`); a question not in it
    keeps only how many answered it."""
    answers = [a for _, a in responses]
    enough_for_text = not definition.anonymous or len(answers) >= min_text
    enough = len(answers) >= min_group or not definition.anonymous
    questions = [
        summarise(q, answers, show_text=enough_for_text if shown is None else q.id in shown)
        for q in definition.questions
    ]
    for result in questions:
        if not enough or (shown is not None and result.question.id not in shown):
            result.counts, result.mean, result.nps = Counter(), None, None
            result.texts_hidden = result.texts_hidden or bool(result.texts)
            result.texts = []
    by_team, hidden = _breakdown(definition, responses, min_group, shown)
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
    shown: Collection[str] | None = None,
) -> tuple[dict[str, dict[str, float | None]], int]:
    groups: dict[str, list[dict[str, Any]]] = {}
    for team, answers in responses:
        groups.setdefault(team or "no team", []).append(answers)
    if len(groups) < 2:  # one group is the whole run: a breakdown would only repeat it
        return {}, 0
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
            few = definition.anonymous and result.answered < min_group  # per question, too
            if few or (shown is not None and question.id not in shown):
                row[question.id] = None
                continue
            row[question.id] = result.nps if question.type == QuestionType.nps else result.mean
        table[team] = row
    return table, len(groups) - len(table)


async def latest_runs(
    *, session: AsyncSession, survey_id: str, rules: Rules, count: int = 2
) -> list[tuple[Released, RunResults]]:
    """The latest runs of a survey (newest first) with what `survey_disclosure` releases of
    each and the results computed from that alone."""
    runs = (
        await session.exec(
            select(SurveyRun)
            .where(col(SurveyRun.survey_id) == survey_id)
            .order_by(col(SurveyRun.started_at).desc(), col(SurveyRun.id).desc())
            .limit(count)
        )
    ).all()
    return [await released_results(session=session, run=run, rules=rules) for run in runs]


async def released_results(
    *, session: AsyncSession, run: SurveyRun, rules: Rules
) -> tuple[Released, RunResults]:
    """One run's results, computed only from what `survey_disclosure.release` lets leave;
    `respondents` counts everyone who answered, even when the answers are withheld."""
    released = await survey_disclosure.release(session=session, run=run, rules=rules)
    rows = await survey_disclosure.team_answers(session=session, released=released)
    results = compute(
        released.definition,
        rows,
        audience=run.audience_size,
        min_group=rules.min_group,
        min_text=rules.min_text,
        shown=released.shown,
    )
    results.respondents = released.respondents
    results.delivery = await surveys.delivery(session=session, run=run)
    return released, results
