"""Finding prompts: full-text search with ranking, tag filters and typo tolerance; "top".

Each back end uses its own full-text engine: FTS5 with bm25 (title weighted over tags over
body) on SQLite, a weighted tsvector with `ts_rank_cd` on PostgreSQL. A query first asks
for prompts that contain every word (as a prefix); when that finds nothing it accepts any
word. Words that occur in no prompt are corrected against the library's vocabulary
(`search_term`) within a small edit distance, and the person is shown the correction.
"""

from __future__ import annotations

import bisect
import datetime as dt
import re
import time
from dataclasses import dataclass, field
from typing import Any

from rapidfuzz import process
from rapidfuzz.distance import OSA
from sqlalchemy import func, text
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.models import Prompt, PromptTag, PromptUser, PromptVote, SearchTerm
from bot.services.prompts import Status, wilson_lower_bound
from bot.words import is_real

PAGE_SIZE = 5
WEEK = dt.timedelta(days=7)
_WORD = re.compile(r"[a-z0-9]+")
_TAG_FILTER = re.compile(r"(?:^|\s)tag:([a-z0-9][a-z0-9+#.-]{0,39})", re.IGNORECASE)
VOCABULARY_TTL_SECONDS = 300.0
RANKED_POOL = 1000
# PostgreSQL's english stop list (Snowball), which its full-text search drops as well.
STOPWORDS = frozenset(
    """
    i me my myself we our ours ourselves you your yours yourself yourselves he him his
    himself she her hers herself it its itself they them their theirs themselves what which
    who whom this that these those am is are was were be been being have has had having do
    does did doing a an the and but if or because as until while of at by for with about
    against between into through during before after above below to from up down in out on
    off over under again further then once here there when where why how all any both each
    few more most other some such no nor not only own same so than too very s t can will
    just don should now
    """.split()
)


@dataclass(slots=True)
class SearchQuery:
    words: list[str]
    tags: list[str]

    @property
    def empty(self) -> bool:
        return not self.words and not self.tags


@dataclass(slots=True)
class SearchPage:
    """One page of matches. `total` counts every match, up to `RANKED_POOL` + 1 (more than
    `RANKED_POOL` means "more than can be paged through": add words)."""

    prompts: list[Prompt]
    has_more: bool
    corrections: dict[str, str] = field(default_factory=dict)
    total: int = 0


def parse_query(raw: str) -> SearchQuery:
    """`flaky tests tag:python` -> words ["flaky", "tests"], tags ["python"]."""
    tags = [t.lower() for t in _TAG_FILTER.findall(raw)]
    rest = _TAG_FILTER.sub(" ", raw)
    return SearchQuery(words=_WORD.findall(rest.lower())[:12], tags=tags[:5])


class Vocabulary:
    """The library's words, cached per process for typo correction (refreshed every 5 min)."""

    def __init__(self, ttl: float = VOCABULARY_TTL_SECONDS) -> None:
        self._ttl = ttl
        self._words: list[str] = []
        self._known: frozenset[str] = frozenset()
        self._sorted: list[str] = []
        self._loaded_at = -ttl

    async def correct(self, session: AsyncSession, words: list[str]) -> dict[str, str]:
        if time.monotonic() - self._loaded_at > self._ttl:
            self._words = list((await session.exec(select(SearchTerm.term))).all())
            self._known = frozenset(self._words)
            self._sorted = sorted(self._words)
            self._loaded_at = time.monotonic()
        fixes: dict[str, str] = {}
        for word in words:
            if word in self._known or len(word) < 4 or word.isdigit() or is_real(word):
                continue
            cutoff = 1 if len(word) < 8 else 2
            best = process.extractOne(word, self._words, scorer=OSA.distance, score_cutoff=cutoff)
            if best:
                fixes[word] = str(best[0])
        return fixes

    def knows(self, word: str) -> bool:
        """A word of the library, or the start of one (after `correct` loaded the words)."""
        if word in self._known:
            return True
        at = bisect.bisect_left(self._sorted, word)
        return at < len(self._sorted) and self._sorted[at].startswith(word)

    def forget(self) -> None:
        self._loaded_at = -self._ttl


async def search(
    *,
    session: AsyncSession,
    query: SearchQuery,
    vocabulary: Vocabulary,
    offset: int = 0,
    limit: int = PAGE_SIZE,
) -> SearchPage:
    """All words first; then typos corrected and words the library lacks dropped; any word
    only as a last resort, and only when two or more words remain."""
    postgres = session.get_bind().dialect.name == "postgresql"
    if postgres:  # a cached generic plan guesses 250 matches for every search: plan each one
        await session.exec(text("SET LOCAL plan_cache_mode = force_custom_plan"))  # type: ignore[call-overload]
    words = _meaningful(query.words)
    if not words:
        return await _by_tags(session, query.tags, offset, limit)
    ids = await _match(session, words, query.tags, "all", offset, limit + 1)
    if ids:
        return await _page(session, ids, limit, offset, _Count(words, query.tags, "all"))
    fixes = await vocabulary.correct(session, words)
    kept = [fixes.get(w, w) for w in words]
    kept = [w for w in kept if vocabulary.knows(w)]
    if not kept:
        return SearchPage(prompts=[], has_more=False)
    for mode in ("all", "any") if len(kept) > 1 else ("all",):
        ids = await _match(session, kept, query.tags, mode, offset, limit + 1)
        if ids:
            page = await _page(session, ids, limit, offset, _Count(kept, query.tags, mode))
            page.corrections = {a: b for a, b in fixes.items() if b in kept}
            return page
    return SearchPage(prompts=[], has_more=False)


@dataclass(frozen=True)
class _Count:
    """What to count when a page does not say the total by itself."""

    words: list[str]
    tags: list[str]
    mode: str


def _meaningful(words: list[str]) -> list[str]:
    """Stopwords out (unless nothing else is left): "a", "do" would match half the index."""
    kept = [w for w in words if w not in STOPWORDS]
    return kept or words


def _term(word: str, *, postgres: bool) -> str:
    prefix = len(word) >= 3  # "go" is a word, not the start of every "good" and "google"
    if postgres:
        return f"{word}:*" if prefix else word
    return f'"{word}"*' if prefix else f'"{word}"'


def _matching(
    words: list[str], tags: list[str], mode: str, *, postgres: bool
) -> tuple[str, dict[str, Any]]:
    """The FROM … WHERE of the published prompts matching `words` (every one, or any with
    `mode` "any") and carrying every tag, as this back end's full-text engine says, with
    its parameters."""
    params: dict[str, Any] = {"published": Status.published}
    tag_filter = ""
    for number, tag in enumerate(tags):
        params[f"tag{number}"] = tag
        tag_filter += (
            f" AND EXISTS (SELECT 1 FROM prompt_tag t WHERE t.prompt_id = p.id"
            f" AND t.tag = :tag{number})"
        )
    if postgres:
        joiner = " & " if mode == "all" else " | "
        params["q"] = joiner.join(_term(w, postgres=True) for w in words)
        where = "FROM prompt p WHERE p.search_vector @@ to_tsquery('english', :q)"
    else:
        joiner = " AND " if mode == "all" else " OR "
        params["q"] = joiner.join(_term(w, postgres=False) for w in words)
        where = "FROM prompt_fts f JOIN prompt p ON p.id = f.rowid WHERE prompt_fts MATCH :q"
    return f"{where} AND p.status = :published{tag_filter}", params


async def _match(
    session: AsyncSession, words: list[str], tags: list[str], mode: str, offset: int, limit: int
) -> list[int]:
    """Matching prompt IDs, best first, `limit` from `offset`."""
    postgres = session.get_bind().dialect.name == "postgresql"
    matching, params = _matching(words, tags, mode, postgres=postgres)
    params.update(limit=limit, offset=offset)
    if postgres:
        # Rank at most RANKED_POOL matches, the most helpful first: a common word matches
        # most of the library, and ranking every match is what made such searches slow.
        params["pool"] = RANKED_POOL
        sql = (
            f"SELECT c.id FROM (SELECT p.id, p.score, p.search_vector {matching}"
            " ORDER BY p.score DESC LIMIT :pool) c"
            " ORDER BY ts_rank_cd(c.search_vector, to_tsquery('english', :q)) DESC,"
            " c.score DESC, c.id LIMIT :limit OFFSET :offset"
        )
    else:
        sql = (
            f"SELECT p.id {matching}"
            " ORDER BY bm25(prompt_fts, 10.0, 4.0, 1.0), p.score DESC, p.id"
            " LIMIT :limit OFFSET :offset"
        )
    rows = await session.exec(text(sql), params=params)  # type: ignore[call-overload]
    return [int(row[0]) for row in rows]


async def _count(session: AsyncSession, words: list[str], tags: list[str], mode: str) -> int:
    """How many prompts match, counted up to `RANKED_POOL` + 1."""
    postgres = session.get_bind().dialect.name == "postgresql"
    matching, params = _matching(words, tags, mode, postgres=postgres)
    params["pool"] = RANKED_POOL + 1
    sql = f"SELECT count(*) FROM (SELECT 1 {matching} LIMIT :pool) c"
    return int((await session.exec(text(sql), params=params)).one()[0])  # type: ignore[call-overload]


async def _by_tags(session: AsyncSession, tags: list[str], offset: int, limit: int) -> SearchPage:
    query = select(Prompt.id).where(col(Prompt.status) == Status.published)
    for tag in tags:
        query = query.where(
            select(PromptTag.prompt_id)
            .where(col(PromptTag.prompt_id) == col(Prompt.id), col(PromptTag.tag) == tag)
            .exists()
        )
    ordered = query.order_by(col(Prompt.score).desc(), col(Prompt.id).desc())
    ids = list((await session.exec(ordered.offset(offset).limit(limit + 1))).all())
    page = await _page(session, [i for i in ids if i is not None], limit, offset, None)
    if page.has_more:
        capped = query.limit(RANKED_POOL + 1).subquery()
        page.total = (await session.exec(select(func.count()).select_from(capped))).one()
    return page


async def _page(
    session: AsyncSession, ids: list[int], limit: int, offset: int, count: _Count | None
) -> SearchPage:
    """The prompts of `ids` (the first `limit`), and the total: counted only when there are
    more to come."""
    wanted = ids[:limit]
    found = {
        p.id: p for p in (await session.exec(select(Prompt).where(col(Prompt.id).in_(wanted))))
    }
    page = SearchPage(
        prompts=[found[i] for i in wanted if i in found],
        has_more=len(ids) > limit,
        total=offset + len(wanted),
    )
    if count and page.has_more:
        counted = await _count(session, count.words, count.tags, count.mode)
        page.total = max(counted, page.total)
    return page


async def top_all_time(*, session: AsyncSession, limit: int = 5) -> list[Prompt]:
    query = (
        select(Prompt)
        .where(col(Prompt.status) == Status.published, col(Prompt.user_count) > 0)
        .order_by(col(Prompt.score).desc(), col(Prompt.id))
        .limit(limit)
    )
    return list((await session.exec(query)).all())


async def top_since(*, session: AsyncSession, since: dt.datetime, limit: int = 5) -> list[Prompt]:
    """Ranked by the Wilson bound over the people who used or voted since `since`."""
    people = dict(
        (
            await session.exec(
                select(PromptUser.prompt_id, func.count())
                .where(col(PromptUser.first_used_at) >= since)
                .group_by(col(PromptUser.prompt_id))
            )
        ).all()
    )
    votes = dict(
        (
            await session.exec(
                select(PromptVote.prompt_id, func.count())
                .where(col(PromptVote.created_at) >= since)
                .group_by(col(PromptVote.prompt_id))
            )
        ).all()
    )
    ranked = sorted(
        set(people) | set(votes),
        key=lambda i: (-wilson_lower_bound(votes.get(i, 0), people.get(i, 0)), i),
    )
    if not ranked:
        return []
    found = {
        p.id: p
        for p in await session.exec(
            select(Prompt).where(
                col(Prompt.id).in_(ranked[: limit * 3]), col(Prompt.status) == Status.published
            )
        )
    }
    return [found[i] for i in ranked if i in found][:limit]
