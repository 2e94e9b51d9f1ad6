"""Choosing a champion for a question: a pure function over the candidates' loads.

Order: champions of the asker's team whose topics match, then any champion of that team,
then champions with a matching topic in other teams. Never the asker, nobody away, nobody
the people directory knows as deactivated (or a bot), nobody at capacity, nobody the
question already went to. Among equals, the fewest open questions (then the most matching
topics, then the user ID, so the choice is stable).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, or_
from sqlalchemy import select as sa_select
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.models import Champion, Question
from bot.services.champions import OPEN_STATUSES, open_loads
from bot.services.people import is_gone

_WORD = re.compile(r"[a-z0-9+#.-]+")


@dataclass(frozen=True, slots=True)
class Candidate:
    user_id: str
    team_id: int
    topics: frozenset[str]
    available: bool
    capacity: int
    open: int


@dataclass(frozen=True, slots=True)
class Choice:
    user_id: str
    reason: str


def words_of(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def _stem(word: str) -> str:
    word = word.strip(".-")
    return word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word


def _alike(word: str, stem: str) -> bool:
    """ "tests" ~ "testing"; short words ("go") only exactly."""
    return word == stem or (
        min(len(word), len(stem)) >= 4 and (stem.startswith(word) or word.startswith(stem))
    )


def question_topics(text: str, known: Iterable[str]) -> frozenset[str]:
    """The known topics a question mentions (`Testing` and `tests` both find `testing`). A
    topic of several words ("code-review", stored with dashes: `teams.parse_topics`) is a
    phrase: its words must come in order, next to each other ("code review", "code-review"),
    so "code" alone never finds it."""
    sequence = [_stem(w) for w in re.split(r"[-\s]+", " ".join(_WORD.findall(text.lower()))) if w]
    words = set(sequence)
    found = set()
    for topic in known:
        parts = [_stem(p) for p in topic.split("-") if p]
        if len(parts) <= 1:
            stem = _stem(topic)
            if stem in words or any(_alike(w, stem) for w in words):
                found.add(topic)
            continue
        if any(
            all(_alike(sequence[i + k], part) for k, part in enumerate(parts))
            for i in range(len(sequence) - len(parts) + 1)
        ):
            found.add(topic)
    return frozenset(found)


def choose(
    candidates: Sequence[Candidate],
    *,
    asker_id: str,
    team_id: int | None,
    topics: frozenset[str],
    exclude: frozenset[str] = frozenset(),
) -> Choice | None:
    eligible = [
        c
        for c in candidates
        if c.available
        and c.open < c.capacity
        and c.user_id != asker_id
        and c.user_id not in exclude
    ]
    about = ", ".join(sorted(topics))
    tiers = (
        (
            f"a champion of your team for {about}",
            lambda c: c.team_id == team_id and c.topics & topics,
        ),
        ("a champion of your team", lambda c: c.team_id == team_id),
        (f"a {about} champion in another team", lambda c: bool(c.topics & topics)),
    )
    for reason, fits in tiers:
        pool = [c for c in eligible if fits(c)]
        if pool:
            best = min(pool, key=lambda c: (c.open, -len(c.topics & topics), c.user_id))
            return Choice(user_id=best.user_id, reason=reason)
    return None


_COLUMNS = (
    col(Champion.user_id),
    col(Champion.team_id),
    col(Champion.topics_text),
    col(Champion.available),
    col(Champion.capacity),
)


def _open_count() -> Any:
    """A champion's open questions, counted per row through `ix_question_champion_id`."""
    return (
        select(func.count())
        .select_from(Question)
        .where(
            col(Question.champion_id) == col(Champion.user_id),
            col(Question.status).in_(OPEN_STATUSES),
        )
        .correlate(Champion)
        .scalar_subquery()
    )


def _candidate(row: Any, open_count: int) -> Candidate:
    return Candidate(
        user_id=row[0],
        team_id=row[1],
        topics=frozenset(str(row[2]).split()),
        available=bool(row[3]),
        capacity=int(row[4]),
        open=open_count,
    )


async def _candidates(session: AsyncSession, *where: Any) -> list[Candidate]:
    query = sa_select(*_COLUMNS, _open_count()).where(
        col(Champion.active), col(Champion.available), ~is_gone(col(Champion.user_id)), *where
    )
    rows = (await (await session.connection()).execute(query)).all()
    return [_candidate(row, int(row[5])) for row in rows]


async def pick(
    *,
    session: AsyncSession,
    asker_id: str,
    team_id: int | None,
    topics: frozenset[str],
    exclude: frozenset[str] = frozenset(),
) -> Choice | None:
    """`choose` over only the champions that could win: the asker's team first, then the
    topic champions of every team (a LIKE narrows, `choose` matches topics exactly)."""
    if team_id is not None:
        team = await _candidates(session, col(Champion.team_id) == team_id)
        choice = choose(team, asker_id=asker_id, team_id=team_id, topics=topics, exclude=exclude)
        if choice is not None:
            return choice
    if not topics:
        return None
    like = or_(*(col(Champion.topics_text).contains(t) for t in sorted(topics)))
    found = await _candidates(session, like)
    return choose(found, asker_id=asker_id, team_id=team_id, topics=topics, exclude=exclude)


async def known_topics(*, session: AsyncSession) -> set[str]:
    rows = (await session.exec(select(Champion.topics_text).where(col(Champion.active)))).all()
    return {topic for text in rows for topic in text.split()}


async def load_candidates(*, session: AsyncSession) -> dict[str, Candidate]:
    """Every active champion with their open questions (two queries), by user ID."""
    loads = await open_loads(session=session)
    query = sa_select(*_COLUMNS).where(col(Champion.active))
    rows = (await (await session.connection()).execute(query)).all()
    return {row[0]: _candidate(row, loads.get(row[0], 0)) for row in rows}
