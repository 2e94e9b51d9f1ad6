"""The people directory: who is in the workspace, from Slack's user objects.

Slack is the source: `users.list` (a full sync), `users.info` (one person), and the
`user_change` / `team_join` events. A user object is applied as an idempotent upsert, and
only when something the bot acts on changed (deactivated, bot, guest, e-mail, time zone);
`user_change` fires on every status emoji, and those change nothing here. An older copy
(Slack's `updated`, epoch seconds) never overwrites a newer one.

Slack's user object: https://api.slack.com/types/user
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import exists, or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.models import Person

# The fields the bot acts on; a change elsewhere (status, avatar, title) is not applied.
WATCHED = ("deleted", "is_bot", "is_guest", "email", "tz")
DIRECTORY_SYNC = "directory-sync"  # the `job_run` job of a full `users.list` sync


@dataclass(frozen=True, slots=True)
class Change:
    """What applying one user object changed for a person the directory already knew (or
    `new` for one it did not)."""

    user_id: str
    new: bool
    left: bool  # deactivated now, was not before (or first seen deactivated)
    returned: bool  # was deactivated, is not now


def fields_of(user: Mapping[str, Any]) -> dict[str, Any]:
    """The directory's columns from a Slack user object (`users.info` / `users.list` member,
    or the `user` of a `user_change` / `team_join` event). Raises `ValueError` without an id."""
    user_id = str(user.get("id") or "")
    if not user_id:
        raise ValueError("a Slack user object without an id")
    profile = user.get("profile") or {}
    email = profile.get("email") or None
    return {
        "user_id": user_id,
        "name": str(profile.get("display_name") or user.get("name") or "")[:120],
        "real_name": str(user.get("real_name") or profile.get("real_name") or "")[:200],
        "email": str(email).lower()[:254] if email else None,
        "tz": str(user["tz"])[:64] if user.get("tz") else None,
        "deleted": bool(user.get("deleted")),
        "is_bot": bool(user.get("is_bot")) or user_id == "USLACKBOT",
        "is_guest": bool(user.get("is_restricted") or user.get("is_ultra_restricted")),
        "updated": int(user.get("updated") or 0),
    }


async def apply(
    *, session: AsyncSession, users: Iterable[Mapping[str, Any]], now: dt.datetime
) -> list[Change]:
    """Upsert Slack user objects; the changes to watched fields, in the order given.

    A person is written when new, when a watched field changed, or (to mark them seen)
    when their entry is older than a day; an object older than the stored one (by Slack's
    `updated`) is ignored."""
    incoming = {f["user_id"]: f for f in (fields_of(u) for u in users)}
    if not incoming:
        return []
    entries = await known(session=session, user_ids=list(incoming))
    changes: list[Change] = []
    for user_id, fields in incoming.items():
        person = entries.get(user_id)
        if person is None:
            session.add(Person(**fields, synced_at=now))
            changes.append(Change(user_id, new=True, left=fields["deleted"], returned=False))
            continue
        if fields["updated"] and fields["updated"] < person.updated:
            continue  # a stale copy: an event that overtook a sync, or the other way round
        moved = [f for f in WATCHED if getattr(person, f) != fields[f]]
        if not moved and now - person.synced_at < dt.timedelta(days=1):
            continue
        was_deleted = person.deleted
        for key, value in fields.items():
            setattr(person, key, value)
        person.synced_at = now
        session.add(person)
        if moved:
            left = fields["deleted"] and not was_deleted
            returned = was_deleted and not fields["deleted"]
            changes.append(Change(user_id, new=False, left=left, returned=returned))
    await session.flush()
    return changes


async def known(*, session: AsyncSession, user_ids: Sequence[str]) -> dict[str, Person]:
    """The directory's entries for `user_ids` (those it has), by user ID."""
    found: dict[str, Person] = {}
    ids = list(dict.fromkeys(user_ids))
    for start in range(0, len(ids), 900):  # SQLite's bound-parameter limit, with room
        rows = await session.exec(
            select(Person).where(col(Person.user_id).in_(ids[start : start + 900]))
        )
        found.update((p.user_id, p) for p in rows.all())
    return found


def left_out_reason(person: Person | None, *, include_guests: bool) -> str | None:
    """Why a survey would not ask this person: "deactivated", "bot", "guest" (Slack's
    restricted accounts, unless `include_guests`), or None. Someone the directory does not
    know is asked: it only ever leaves people out on Slack's word."""
    if person is None:
        return None
    if person.deleted:
        return "deactivated"
    if person.is_bot:
        return "bot"
    if person.is_guest and not include_guests:
        return "guest"
    return None


async def screen(
    *, session: AsyncSession, user_ids: Sequence[str], include_guests: bool
) -> tuple[list[str], dict[str, str]]:
    """An audience without the people a survey leaves out: (the others, in the order
    given; the ones left out, user ID -> `left_out_reason`)."""
    entries = await known(session=session, user_ids=user_ids)
    kept: list[str] = []
    left_out: dict[str, str] = {}
    for user_id in dict.fromkeys(user_ids):
        reason = left_out_reason(entries.get(user_id), include_guests=include_guests)
        if reason is None:
            kept.append(user_id)
        else:
            left_out[user_id] = reason
    return kept, left_out


async def stale(
    *, session: AsyncSession, user_ids: Sequence[str], now: dt.datetime, ttl: dt.timedelta
) -> list[str]:
    """Which of `user_ids` the directory does not know, or last heard of more than `ttl`
    ago (the ones worth a `users.info`)."""
    entries = await known(session=session, user_ids=user_ids)
    return [
        u
        for u in dict.fromkeys(user_ids)
        if (p := entries.get(u)) is None or now - p.synced_at > ttl
    ]


def is_gone(user_id_column: Any) -> Any:
    """A WHERE clause, "the directory knows this user ID as deactivated or a bot",
    correlated on `user_id_column` (e.g. `~is_gone(Champion.user_id)` keeps the others)."""
    return exists().where(
        col(Person.user_id) == user_id_column, or_(col(Person.deleted), col(Person.is_bot))
    )
