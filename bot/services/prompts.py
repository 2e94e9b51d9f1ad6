"""The prompt library: adding, editing, using, voting, reporting and moderating prompts.

Counts are per distinct person: a vote is one row per (prompt, person), a person's first
use is one row per (prompt, person); the prompt's counters and its `score` (the Wilson
lower bound of helpful votes over people) change in the same transaction as those rows.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import delete, func, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.db import insert_for
from bot.errors import BadInput, NotAllowed
from bot.models import (
    Prompt,
    PromptTag,
    PromptUse,
    PromptUser,
    PromptVersion,
    PromptVote,
    SearchTerm,
)
from bot.services import audit
from bot.services.text import CONTROL_MESSAGE, has_control_characters
from bot.views.common import escape

TITLE_MAX = 150
BODY_MAX = 8000
MAX_TAGS = 10
_TAG = re.compile(r"^[a-z0-9][a-z0-9+#.-]{0,39}$")
_WORD = re.compile(r"[a-z0-9]{3,40}")
WILSON_Z = 1.96


class Status:
    published = "published"
    pending = "pending"
    hidden = "hidden"
    deleted = "deleted"


class PromptRemoved(BadInput):
    """The prompt was deleted (or never existed)."""

    def __init__(self) -> None:
        super().__init__("This prompt was removed.")


@dataclass(slots=True)
class PromptDraft:
    """What a person submits for a new prompt or an edit, before checks."""

    title: str
    body: str
    tags: list[str] = field(default_factory=list)
    stack: str | None = None
    use_case: str | None = None
    tool: str | None = None


class DuplicatePrompt(BadInput):
    """The same prompt (by normalised body) is already in the library."""

    def __init__(self, existing: Prompt) -> None:
        super().__init__(f"The same prompt is already in the library: “{existing.title}”.")
        self.existing_id = existing.id
        self.existing_title = existing.title


class StalePrompt(BadInput):
    """An edit started from an older version than the prompt has now: someone saved in
    between, and saving would overwrite their change. `title`, `body` and `version` are
    the prompt as it is (plain values: the transaction that raised this rolls back)."""

    def __init__(self, current: Prompt, started_from: int | None) -> None:
        super().__init__(
            f"This prompt changed since you opened it (version {started_from} → "
            f"{current.version}): nothing was saved."
            if started_from is not None
            else "This form does not say which version it started from (it may have been"
            " opened before an upgrade), so saving could overwrite someone's change:"
            " nothing was saved."
        )
        self.title, self.body, self.version = current.title, current.body, current.version


def parse_tags(text: str) -> list[str]:
    """`testing, Code Review #python` -> ["testing", "code-review", "python"]."""
    parts = re.split(r"[,;\n]+", text) if re.search(r"[,;\n]", text) else text.split()
    tags: list[str] = []
    for part in parts:
        tag = re.sub(r"\s+", "-", part.strip().lstrip("#").lower())
        if not tag:
            continue
        if not _TAG.match(tag):
            raise BadInput(f"“{escape(tag[:40])}” is not a tag: use letters, digits and dashes.")
        if tag not in tags:
            tags.append(tag)
    if len(tags) > MAX_TAGS:
        raise BadInput(f"Please use at most {MAX_TAGS} tags.")
    return tags


def normalised_hash(body: str) -> str:
    """Bodies that differ only in case, spacing or punctuation are the same prompt."""
    text = unicodedata.normalize("NFKC", body).lower()
    words = re.findall(r"\w+", text)
    return hashlib.sha256(" ".join(words).encode()).hexdigest()


def wilson_lower_bound(helpful: int, people: int, z: float = WILSON_Z) -> float:
    """The lower bound of the 95 % interval for the share of people who found it helpful."""
    n = max(people, helpful)
    if n == 0:
        return 0.0
    p = helpful / n
    centre = p + z * z / (2 * n)
    spread = z * math.sqrt((p * (1 - p) + z * z / (4 * n)) / n)
    return (centre - spread) / (1 + z * z / n)


def field_problems(draft: PromptDraft) -> dict[str, str]:
    """What is wrong with each field ("title", "body", "stack", "use_case", "tool"), for a form
    to show."""
    problems: dict[str, str] = {}
    title, body = draft.title.strip(), draft.body.strip("\n")
    if not title:
        problems["title"] = "Please give the prompt a title."
    elif len(title) > TITLE_MAX:
        problems["title"] = f"Titles are at most {TITLE_MAX} characters ({len(title)} now)."
    if not body.strip():
        problems["body"] = "Please write the prompt itself."
    elif len(body) > BODY_MAX:
        problems["body"] = f"Prompts are at most {BODY_MAX:,} characters ({len(body):,} now)."
    fields = {
        "title": title,
        "body": body,
        "stack": draft.stack or "",
        "use_case": draft.use_case or "",
        "tool": draft.tool or "",
    }
    for name, value in fields.items():
        if name not in problems and has_control_characters(value):
            problems[name] = f"This {CONTROL_MESSAGE}"
    return problems


def check_draft(draft: PromptDraft) -> PromptDraft:
    """Trim and check lengths; raise `BadInput` with the first problem found."""
    problems = field_problems(draft)
    if problems:
        raise BadInput(next(iter(problems.values())))
    title, body = draft.title.strip(), draft.body.strip("\n")
    return PromptDraft(
        title=title,
        body=body,
        tags=draft.tags,
        stack=(draft.stack or "").strip()[:60] or None,
        use_case=(draft.use_case or "").strip()[:150] or None,
        tool=(draft.tool or "").strip()[:75] or None,
    )


async def find_duplicate(
    *, session: AsyncSession, body: str, ignore_id: int | None = None
) -> Prompt | None:
    query = select(Prompt).where(
        col(Prompt.body_hash) == normalised_hash(body), col(Prompt.status) != Status.deleted
    )
    if ignore_id is not None:
        query = query.where(col(Prompt.id) != ignore_id)
    return (await session.exec(query.limit(1))).first()


async def create(
    *,
    session: AsyncSession,
    draft: PromptDraft,
    author_id: str,
    team: str | None,
    now: dt.datetime,
    needs_review: bool,
) -> Prompt:
    """Add a prompt (pending when the CoE reviews before publishing); raises DuplicatePrompt."""
    draft = check_draft(draft)
    duplicate = await find_duplicate(session=session, body=draft.body)
    if duplicate is not None:
        raise DuplicatePrompt(duplicate)
    prompt = Prompt(
        title=draft.title,
        body=draft.body,
        tags_text=" ".join(draft.tags),
        stack=draft.stack,
        use_case=draft.use_case,
        tool=draft.tool,
        author_id=author_id,
        team=team,
        status=Status.pending if needs_review else Status.published,
        body_hash=normalised_hash(draft.body),
        created_at=now,
        updated_at=now,
    )
    session.add(prompt)
    await session.flush()
    await _after_write(session, prompt, editor_id=author_id, now=now)
    return prompt


async def edit(
    *,
    session: AsyncSession,
    prompt_id: int,
    draft: PromptDraft,
    editor_id: str,
    is_admin: bool,
    now: dt.datetime,
    started_from: int | None,
) -> Prompt:
    """Save `draft` over the prompt as a new version. `started_from` is the version the
    editor opened (None, unknown, is refused too): if another save came first, raises
    StalePrompt and changes nothing (the
    version moves with a conditional UPDATE, so two saves racing from one version cannot
    both win, on SQLite or PostgreSQL). Raises NotAllowed, DuplicatePrompt or BadInput as
    `create` does."""
    prompt = await get_live(session=session, prompt_id=prompt_id)
    check_may_change(prompt, editor_id, is_admin=is_admin)
    draft = check_draft(draft)
    duplicate = await find_duplicate(session=session, body=draft.body, ignore_id=prompt_id)
    if duplicate is not None:
        raise DuplicatePrompt(duplicate)
    if started_from is None:
        raise StalePrompt(prompt, None)
    base = started_from
    moved = await session.exec(
        update(Prompt)
        .where(col(Prompt.id) == prompt_id, col(Prompt.version) == base)
        .values(version=base + 1)
    )
    if moved.rowcount != 1:
        await session.refresh(prompt)
        raise StalePrompt(prompt, base)
    prompt.version = base + 1
    prompt.title, prompt.body = draft.title, draft.body
    prompt.tags_text = " ".join(draft.tags)
    prompt.stack, prompt.use_case, prompt.tool = draft.stack, draft.use_case, draft.tool
    prompt.body_hash = normalised_hash(draft.body)
    prompt.updated_at = now
    session.add(prompt)
    await session.flush()
    await session.exec(delete(PromptTag).where(col(PromptTag.prompt_id) == prompt_id))
    await _after_write(session, prompt, editor_id=editor_id, now=now)
    return prompt


async def _after_write(
    session: AsyncSession, prompt: Prompt, *, editor_id: str, now: dt.datetime
) -> None:
    """Keep the version, the tags and the search vocabulary in step with the prompt."""
    assert prompt.id is not None
    session.add(
        PromptVersion(
            prompt_id=prompt.id,
            version=prompt.version,
            title=prompt.title,
            body=prompt.body,
            tags_text=prompt.tags_text,
            stack=prompt.stack,
            use_case=prompt.use_case,
            tool=prompt.tool,
            editor_id=editor_id,
            created_at=now,
        )
    )
    for tag in prompt.tags:
        session.add(PromptTag(prompt_id=prompt.id, tag=tag))
    terms = sorted(set(_WORD.findall(f"{prompt.title} {prompt.tags_text} {prompt.body}".lower())))
    if terms:
        stmt = insert_for(session, SearchTerm).on_conflict_do_nothing()
        await session.exec(stmt, params=[{"term": t} for t in terms])
    await session.flush()


def check_may_change(prompt: Prompt, user_id: str, *, is_admin: bool) -> None:
    if prompt.author_id != user_id and not is_admin:
        raise NotAllowed(
            "Only the prompt's author or a CoE admin can change it. Nothing was changed."
        )


async def get_live(*, session: AsyncSession, prompt_id: int) -> Prompt:
    """A prompt that has not been deleted, or `PromptRemoved`."""
    prompt = await session.get(Prompt, prompt_id)
    if prompt is None or prompt.status == Status.deleted:
        raise PromptRemoved()
    return prompt


async def get_visible(*, session: AsyncSession, prompt_id: int, user_id: str) -> Prompt:
    """A prompt this person may see: published, or their own."""
    prompt = await get_live(session=session, prompt_id=prompt_id)
    if prompt.status != Status.published and prompt.author_id != user_id:
        raise BadInput("This prompt is waiting for a CoE review and can't be used yet.")
    return prompt


async def remove(
    *, session: AsyncSession, prompt_id: int, user_id: str, is_admin: bool, now: dt.datetime
) -> Prompt:
    prompt = await get_live(session=session, prompt_id=prompt_id)
    check_may_change(prompt, user_id, is_admin=is_admin)
    prompt.status = Status.deleted
    prompt.updated_at = now
    session.add(prompt)
    await audit.record(
        session=session,
        actor=user_id,
        action="prompt.delete",
        subject=f"prompt:{prompt_id}",
        details={"by_admin": is_admin and prompt.author_id != user_id},
        now=now,
    )
    return prompt


async def record_use(
    *, session: AsyncSession, prompt: Prompt, user_id: str, team: str | None, now: dt.datetime
) -> None:
    assert prompt.id is not None
    session.add(PromptUse(prompt_id=prompt.id, user_id=user_id, team=team, created_at=now))
    first = insert_for(session, PromptUser).values(
        prompt_id=prompt.id, user_id=user_id, first_used_at=now
    )
    added = (await session.exec(first.on_conflict_do_nothing())).rowcount
    await session.exec(
        update(Prompt)
        .where(col(Prompt.id) == prompt.id)
        .values(use_count=Prompt.use_count + 1, user_count=Prompt.user_count + added)
    )
    await _rescore(session, prompt.id)


async def toggle_helpful(
    *, session: AsyncSession, prompt: Prompt, user_id: str, now: dt.datetime
) -> bool:
    """Mark or unmark as helpful; True when it is now marked. Authors can't vote."""
    assert prompt.id is not None
    if prompt.author_id == user_id:
        raise NotAllowed("You can't vote for your own prompt.")
    removed = await session.exec(
        delete(PromptVote).where(
            col(PromptVote.prompt_id) == prompt.id, col(PromptVote.user_id) == user_id
        )
    )
    if removed.rowcount:
        change = -1
    else:
        stmt = insert_for(session, PromptVote).values(
            prompt_id=prompt.id, user_id=user_id, created_at=now
        )
        change = (await session.exec(stmt.on_conflict_do_nothing())).rowcount
    await session.exec(
        update(Prompt)
        .where(col(Prompt.id) == prompt.id)
        .values(helpful_count=Prompt.helpful_count + change)
    )
    await _rescore(session, prompt.id)
    return change > 0


async def _rescore(session: AsyncSession, prompt_id: int) -> None:
    row = (
        await session.exec(
            select(Prompt.helpful_count, Prompt.user_count).where(col(Prompt.id) == prompt_id)
        )
    ).one()
    await session.exec(
        update(Prompt)
        .where(col(Prompt.id) == prompt_id)
        .values(score=wilson_lower_bound(row[0], row[1]))
    )


async def by_author(
    *, session: AsyncSession, author_id: str, limit: int = 20, offset: int = 0
) -> tuple[Sequence[Prompt], int]:
    """A person's prompts, newest change first, `limit` of them from `offset`, and how many
    they have in all (deleted ones aside)."""
    mine = (col(Prompt.author_id) == author_id, col(Prompt.status) != Status.deleted)
    query = (
        select(Prompt)
        .where(*mine)
        .order_by(col(Prompt.updated_at).desc(), col(Prompt.id).desc())
        .offset(offset)
        .limit(limit)
    )
    total = (await session.exec(select(func.count()).select_from(Prompt).where(*mine))).one()
    return (await session.exec(query)).all(), int(total)
