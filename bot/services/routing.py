"""Choosing a champion for a question: a pure function over the candidates' loads.

Order: champions of the asker's team whose topics match, then any champion of that team,
then champions with a matching topic in other teams. Never the asker, nobody away, nobody
at capacity, nobody the question already went to. Among equals, the fewest open questions
(then the most matching topics, then the user ID, so the choice is stable).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.models import Champion
from bot.services.champions import open_loads

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


def question_topics(text: str, known: Iterable[str]) -> frozenset[str]:
    """The known topics a question mentions (`Testing` and `tests` both find `testing`)."""
    words = {_stem(w) for w in _WORD.findall(text.lower())}
    found = set()
    for topic in known:
        stem = _stem(topic)
        if stem in words or any(
            len(w) >= 4 and (stem.startswith(w) or w.startswith(stem)) for w in words
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


async def load_candidates(*, session: AsyncSession) -> list[Candidate]:
    """Every active champion with their current number of open questions (two queries)."""
    loads = await open_loads(session=session)
    rows = (await session.exec(select(Champion).where(col(Champion.active)))).all()
    return [
        Candidate(
            user_id=c.user_id,
            team_id=c.team_id,
            topics=frozenset(c.topics),
            available=c.available,
            capacity=c.capacity,
            open=loads.get(c.user_id, 0),
        )
        for c in rows
    ]
