"""What may leave the database about a survey run: the one place that decides.

Every output about a run — results in Slack, the API's results and responses (JSON, CSV,
the PostgreSQL COPY path), `coe-bot export survey`, App Home, digests and the adoption
metrics — starts from `release()`, which applies the rules below, and reads rows only
through `rows()` or `copy_sql()`, which honour what it decided.

The rules for an anonymous run (people-survey tools' conventions, docs/survey-sources.md: scores
from 5, comments from 10, and protection against differencing):

1. While the run is open nothing but participation (respondents of audience) leaves: an
   open run's answers change, and two looks at different times would differ by one person.
2. When it has closed, answers leave as one whole-run set, and only from `min_group`
   respondents; a free-text question's answers only from `min_text` answers to it.
3. Segment labels (teams) are merged (`merge_labels`) until every label, the merged bucket
   and each one's complement describe at least `min_group` people, so no two outputs on the
   same run differ by fewer than `min_group` people (the subtraction rule).
4. Rows carry no id, no respondent and no time finer than the run's date, in the order of
   their respondent keys — random once the run has closed (`seal`), so order links nothing.

Named (non-anonymous) surveys tell respondents they are named: their rows keep the
respondent, id and time, and may be read while the run is open.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import bindparam, case, func, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.csvsafe import defuse_sql
from bot.models import SurveyRecipient, SurveyResponse, SurveyRun
from bot.services.survey_definitions import QuestionType, SurveyDefinition

OTHER_TEAMS = "(other teams)"
ALL_TEAMS = "(all teams)"
NO_TEAM = "(no team)"
TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"  # a named run's answer times, in UTC


@dataclass(frozen=True, slots=True)
class Rules:
    """The minimum group sizes: `SURVEY_MIN_GROUP` and `SURVEY_MIN_GROUP_TEXT`."""

    min_group: int
    min_text: int


@dataclass(slots=True)
class Released:
    """What `release` decided about one run. `withheld` says why answers may not leave
    (None when they may); `labels` maps each stored team to the label that may be shown;
    `shown` names the questions whose answers may be shown: on an anonymous run, those answered
    by at least `min_group` people (`min_text` for free text)."""

    run: SurveyRun
    definition: SurveyDefinition
    respondents: int
    withheld: str | None = None
    labels: dict[str | None, str | None] = field(default_factory=dict)
    shown: frozenset[str] = frozenset()

    @property
    def anonymous(self) -> bool:
        return self.definition.anonymous

    @property
    def run_date(self) -> dt.date:
        return self.run.started_at.date()


def merge_labels(sizes: Mapping[str | None, int], min_group: int) -> dict[str | None, str]:
    """Team → label shown, for groups of `sizes` people (a team of None is `NO_TEAM`).

    Smallest first, groups move into one merged bucket until every label left, the bucket
    and the complement of each (everyone else) is either empty or at least `min_group`.
    If everything merges, every row reads `ALL_TEAMS`.
    """
    total = sum(sizes.values())
    merged: set[str | None] = set()
    order = sorted(sizes, key=lambda t: (sizes[t], str(t)))

    def fits(n: int) -> bool:
        return (n == 0 or n >= min_group) and (total - n == 0 or total - n >= min_group)

    while True:
        bucket = sum(sizes[t] for t in merged)
        left = [t for t in order if t not in merged]
        bad = [t for t in left if not fits(sizes[t])]
        if not left or (fits(bucket) and not bad):
            break
        merged.add(bad[0] if fits(bucket) and bad else left[0])
    everything = not [t for t in order if t not in merged]
    label = ALL_TEAMS if everything else OTHER_TEAMS
    return {t: (label if t in merged else (t if t is not None else NO_TEAM)) for t in sizes}


async def participation(*, session: AsyncSession, run: SurveyRun) -> int:
    """How many people answered `run`: a count may always leave (App Home, digests), since
    it says nothing of what anyone answered."""
    count = (
        await session.exec(
            select(func.count())
            .select_from(SurveyResponse)
            .where(col(SurveyResponse.run_id) == run.id)
        )
    ).one()
    return int(count)


async def release(*, session: AsyncSession, run: SurveyRun, rules: Rules) -> Released:
    """Decide what may leave about `run`: the rules of the module docstring, from two
    aggregate queries (people per team; answers per question)."""
    definition = SurveyDefinition.model_validate(run.definition)
    sizes: dict[str | None, int] = dict(
        (
            await session.exec(
                select(SurveyResponse.team, func.count())
                .where(col(SurveyResponse.run_id) == run.id)
                .group_by(col(SurveyResponse.team))
            )
        ).all()
    )
    released = Released(run=run, definition=definition, respondents=sum(sizes.values()))
    if not definition.anonymous:
        released.labels = {t: t for t in sizes}
        released.shown = frozenset(q.id for q in definition.questions)
        return released
    if run.status != "closed":
        released.withheld = (
            f"answers of an anonymous run leave only after it closes "
            f"({run.closes_at:%Y-%m-%d %H:%M} UTC)"
        )
        return released
    if released.respondents < rules.min_group:
        released.withheld = (
            f"fewer than {rules.min_group} people answered; their answers never leave"
        )
        return released
    released.labels = dict(merge_labels(sizes, rules.min_group))
    released.shown = frozenset(await _questions_shown(session, run, definition, rules))
    return released


async def _questions_shown(
    session: AsyncSession, run: SurveyRun, definition: SurveyDefinition, rules: Rules
) -> list[str]:
    """Questions answered by enough people: a rarely answered (optional, conditional)
    question would otherwise show a few people's answers beside their team. One scan:
    a filtered count per question."""
    counts = []
    for question in definition.questions:
        answer = SurveyResponse.answers[question.id].as_string()
        counts.append(func.count().filter(answer.is_not(None), answer.not_in(["", "[]"])))
    if not counts:
        return []
    connection = await session.connection()
    answered: tuple[int, ...] = tuple(
        (
            await connection.execute(select(*counts).where(col(SurveyResponse.run_id) == run.id))
        ).one()
    )
    return [
        q.id
        for q, n in zip(definition.questions, answered, strict=True)
        if n >= (rules.min_text if q.type == QuestionType.text else rules.min_group)
    ]


def columns(released: Released) -> list[str]:
    """The columns of a released row, in order (questions by id)."""
    head = (
        ["id", "submitted_at", "team", "respondent"]
        if not released.anonymous
        else ["run_date", "team"]
    )
    return head + [q.id for q in released.definition.questions]


@dataclass(frozen=True, slots=True)
class Span:
    """When answers were given (UTC, `until` exclusive): for named runs only, since an
    anonymous run's answers leave only as one whole-run set."""

    since: dt.datetime | None = None
    until: dt.datetime | None = None


async def rows(
    *,
    session: AsyncSession,
    released: Released,
    offset: int = 0,
    limit: int | None = None,
    span: Span = Span(),
) -> AsyncIterator[dict[str, Any]]:
    """The run's rows as they may leave: nothing when withheld; anonymous rows in key order
    with labels, the run's date and only the shown questions; named rows in id order. Raises
    `ValueError` for a `span` on an anonymous run."""
    if released.anonymous and (span.since or span.until):
        raise ValueError("an anonymous run's answers leave only as one whole-run set")
    if released.withheld is not None:
        return
    query = select(SurveyResponse).where(col(SurveyResponse.run_id) == released.run.id)
    if span.since:
        query = query.where(col(SurveyResponse.updated_at) >= span.since)
    if span.until:
        query = query.where(col(SurveyResponse.updated_at) < span.until)
    order = col(SurveyResponse.respondent_key if released.anonymous else SurveyResponse.id)
    query = query.order_by(order).offset(offset)
    if limit is not None:
        query = query.limit(limit)
    stream = await session.stream_scalars(query.execution_options(yield_per=2000))
    hidden = {q.id for q in released.definition.questions if q.id not in released.shown}
    async for response in stream:
        answers = {
            q.id: (None if q.id in hidden else _flat(response.answers.get(q.id)))
            for q in released.definition.questions
        }
        if released.anonymous:
            yield {
                "run_date": released.run_date.isoformat(),
                "team": released.labels.get(response.team, OTHER_TEAMS),
                **answers,
            }
        else:
            yield {
                "id": response.id,
                "submitted_at": response.updated_at.astimezone(dt.UTC).strftime(TIME_FORMAT),
                "team": response.team,
                "respondent": response.user_id,
                **answers,
            }


def _flat(value: Any) -> Any:
    return ";".join(str(v) for v in value) if isinstance(value, list) else value


async def team_answers(
    *, session: AsyncSession, released: Released
) -> list[tuple[str | None, dict[str, Any]]]:
    """(label, answers) of every row of a released run, for `survey_results.compute` (which
    shows only the questions in `released.shown`); empty when withheld."""
    if released.withheld is not None:
        return []
    found = (
        await session.exec(
            select(SurveyResponse.team, SurveyResponse.answers).where(
                col(SurveyResponse.run_id) == released.run.id
            )
        )
    ).all()
    return [(released.labels.get(team, OTHER_TEAMS), dict(answers)) for team, answers in found]


def copy_sql(released: Released, offset: int = 0, span: Span = Span()) -> tuple[str, list[Any]]:
    """The PostgreSQL query behind the CSV of `rows` (same columns, order, labels and hidden
    questions), every text cell defused by `csvsafe.defuse_sql` as the Python writer does.

    The raw values are read in an inner query fenced with `OFFSET`, so each JSON field is
    extracted once per row, not once per use in the defusing expression. Question ids are
    validated slugs; labels travel as parameters."""
    if released.withheld is not None:
        return "SELECT " + ", ".join(f'NULL AS "{c}"' for c in columns(released)) + " LIMIT 0", []
    args: list[Any] = [released.run.id, offset]  # $1, $2
    if released.anonymous:
        teams = [t for t in released.labels if t is not None]
        args += [teams, [released.labels[t] for t in teams], released.labels.get(None)]
        inner = [
            f"'{released.run_date.isoformat()}' AS run_date",
            "COALESCE(l.label, $5::text) AS team",
        ]
        outer = ["run_date", f"{defuse_sql('team')} AS team"]
        order = 'r.respondent_key COLLATE "C"'  # a sort in memory, not 1M random heap reads
        join = " LEFT JOIN unnest($3::text[], $4::text[]) AS l(team, label) ON l.team = r.team"
    else:
        inner = [
            "r.id",
            "to_char(r.updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') AS at",
            "r.team",
            "r.user_id AS respondent",
        ]
        outer = ["id", "at AS submitted_at", f"{defuse_sql('team')} AS team", "respondent"]
        order = "r.id"
        join = ""
    for question in released.definition.questions:
        quoted = question.id.replace('"', "")
        if question.id not in released.shown:
            inner.append(f'NULL::text AS "{quoted}"')
        elif question.type == QuestionType.multi:
            inner.append(
                "array_to_string(ARRAY(SELECT json_array_elements_text("
                f"r.answers->'{quoted}')), ';') AS \"{quoted}\""
            )
        else:
            inner.append(f"r.answers->>'{quoted}' AS \"{quoted}\"")
        column = f's."{quoted}"'
        outer.append(f'{defuse_sql(column)} AS "{quoted}"')
    where = ["r.run_id = $1"]
    if released.anonymous and (span.since or span.until):
        raise ValueError("an anonymous run's answers leave only as one whole-run set")
    for bound, op in ((span.since, ">="), (span.until, "<")):
        if bound is not None:
            args.append(bound)
            where.append(f"r.updated_at {op} ${len(args)}")
    sql = (
        f"SELECT {', '.join(outer)} FROM (SELECT {', '.join(inner)}, {order} AS sort_key"
        f" FROM survey_response r{join} WHERE {' AND '.join(where)} ORDER BY {order}"
        " OFFSET $2) s ORDER BY s.sort_key"
    )
    return sql, args


async def seal(*, session: AsyncSession, run: SurveyRun, rules: Rules) -> None:
    """At close, make an anonymous run's answers unlinkable for good, the operator included:
    each respondent key (an HMAC of the person while the run was open, so they could change
    their answers) becomes a random value, times become the run's date, stored teams become
    their released labels, ids are shuffled, and the recipients' "answered" and reminder
    marks are cleared (who was reminded says who had not answered yet)."""
    definition = SurveyDefinition.model_validate(run.definition)
    if not definition.anonymous:
        return
    day = dt.datetime.combine(run.started_at.date(), dt.time(), tzinfo=dt.UTC)
    found: list[tuple[int, str | None]] = [
        (int(response_id or 0), team)
        for response_id, team in (
            await session.exec(
                select(SurveyResponse.id, SurveyResponse.team).where(
                    col(SurveyResponse.run_id) == run.id
                )
            )
        ).all()
    ]
    sizes: dict[str | None, int] = {}
    for _, team in found:
        sizes[team] = sizes.get(team, 0) + 1
    labels = merge_labels(sizes, rules.min_group)
    if found:
        # New ids too, a random permutation of the old, written in the new order: ids (and on
        # PostgreSQL the rows' physical order) kept the order people answered in.
        old_ids = [response_id for response_id, _ in found]
        new_ids = list(old_ids)
        secrets.SystemRandom().shuffle(new_ids)
        connection = await session.connection()
        await connection.execute(
            update(SurveyResponse)
            .where(col(SurveyResponse.id) == bindparam("row"))
            .values(
                id=bindparam("parked"),
                respondent_key=bindparam("key"),
                team=bindparam("label"),
                submitted_at=day,
                updated_at=day,
            ),
            [
                {
                    "row": response_id,
                    "parked": -response_id,
                    "key": secrets.token_hex(32),
                    "label": labels[team][:80],
                }
                for response_id, team in found
            ],
        )
        moves = sorted(zip(new_ids, old_ids, strict=True))
        await connection.execute(
            update(SurveyResponse)
            .where(col(SurveyResponse.id) == bindparam("parked"))
            .values(id=bindparam("new")),
            [{"parked": -old, "new": new} for new, old in moves],
        )
    # Recipients too are rewritten one by one in a random order: on PostgreSQL a row's
    # position (ctid) moved to the end when its person answered, in answer order.
    recipients = [
        int(rid or 0)
        for rid in (
            await session.exec(
                select(SurveyRecipient.id).where(col(SurveyRecipient.run_id) == run.id)
            )
        ).all()
    ]
    secrets.SystemRandom().shuffle(recipients)
    if recipients:
        connection = await session.connection()
        await connection.execute(
            update(SurveyRecipient)
            .where(col(SurveyRecipient.id) == bindparam("row"))
            .values(
                status=case(
                    (col(SurveyRecipient.status) == "answered", "sent"),
                    else_=col(SurveyRecipient.status),
                ),
                reminder_status=None,
                attempts=0,
            ),
            [{"row": rid} for rid in recipients],
        )
