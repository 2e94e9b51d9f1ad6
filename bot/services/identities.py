"""Who a GitHub login is, across systems: GitHub login → e-mail → Slack user → team.

Copilot's reports name people only by GitHub login. A login is matched through
`person_identity` (from `coe-bot people import`: `slack_user_id,email,github_login`):
by its Slack user when the row names one, else by its e-mail through the people
directory (Slack's `users.list` e-mails). Nothing is guessed from names; a login that
does not match is listed by `unmatched` with the reason, and every team figure says the
share it could match. Logins are compared in lower case (GitHub's are case-insensitive).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func
from sqlalchemy import select as sa_select
from sqlalchemy.orm import aliased
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.errors import BadInput
from bot.models import (
    CopilotSeat,
    CopilotUserDay,
    Person,
    PersonIdentity,
    Team,
    TeamMember,
)
from bot.services import audit

COLUMNS = ("slack_user_id", "email", "github_login")
HEADER = ",".join(COLUMNS)
# GitHub logins: letters, digits and single hyphens, up to 39 characters; EMU logins add
# an underscore and the enterprise's short code (`ana_acme`).
LOGIN = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})(?:_[A-Za-z0-9]+)?")
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
SLACK_USER = re.compile(r"[UW][A-Z0-9]{2,31}")
UNMATCHED = "(unmatched)"


@dataclass(frozen=True)
class IdentityRow:
    line: int
    github_login: str
    email: str | None
    slack_user_id: str | None


@dataclass
class ImportReport:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    problems: list[str] = field(default_factory=list)  # lines refused ("line 4: …")
    warnings: list[str] = field(default_factory=list)  # lines taken, with a caveat
    reassigned: list[str] = field(default_factory=list)  # logins now naming someone else


def read_csv(text: str) -> tuple[list[IdentityRow], list[str]]:
    """The rows of a people CSV and the problems of the others ("line 4: …"). The header
    must be `slack_user_id,email,github_login`; a row needs a login and an e-mail or a
    Slack user ID. Raises `BadInput` for a file without that header."""
    reader = csv.DictReader(io.StringIO(text))
    names = {f.strip().lower() for f in reader.fieldnames or []}
    if not set(COLUMNS) <= names:
        raise BadInput(f"the first line must be the header: {HEADER}")
    rows: list[IdentityRow] = []
    problems: list[str] = []
    seen: dict[str, int] = {}
    for raw in reader:
        line = reader.line_num
        if raw.get(None):  # DictReader's key for fields past the header
            problems.append(f"line {line}: more fields than the header's three")
            continue
        row = {(k or "").strip().lower(): (v or "").strip() for k, v in raw.items() if k}
        login, email, user = row["github_login"], row["email"].lower(), row["slack_user_id"]
        problem = _problem(login, email, user)
        if problem is None and login.lower() in seen:
            problem = f"{login} is also on line {seen[login.lower()]}"
        if problem:
            problems.append(f"line {line}: {problem}")
            continue
        seen[login.lower()] = line
        rows.append(IdentityRow(line, login.lower(), email or None, user or None))
    return rows, problems


def _problem(login: str, email: str, user: str) -> str | None:
    if not login:
        return "no github_login"
    if not LOGIN.fullmatch(login):
        return f"{login[:60]!r} is not a GitHub login"
    if not (email or user):
        return f"{login}: give an email or a slack_user_id"
    if email and not EMAIL.fullmatch(email):
        return f"{email[:80]!r} is not an e-mail address"
    if user and not SLACK_USER.fullmatch(user):
        return f"{user[:40]!r} is not a Slack user ID (U… or W…)"
    return None


async def import_rows(
    *,
    session: AsyncSession,
    rows: Sequence[IdentityRow],
    now: dt.datetime,
    source: str = "csv",
    actor: str = "cli",
    source_file: str | None = None,
) -> ImportReport:
    """Add or update each login's identity; importing the same file again changes nothing.
    A row whose e-mail belongs to another Slack user than the one it names is refused
    (`problems`); a Slack user the people directory has not listed is taken with a warning.
    A login that now names another person is listed in `reassigned`. The import is audited
    (it decides whose use counts for which team)."""
    report = ImportReport()
    known = {
        i.github_login: i
        for i in await session.exec(
            select(PersonIdentity).where(
                col(PersonIdentity.github_login).in_([r.github_login for r in rows])
            )
        )
    }
    emails = {r.email for r in rows if r.email} | {i.email for i in known.values() if i.email}
    directory = {
        str(email).lower(): str(user)
        for email, user in (
            await session.exec(
                select(Person.email, Person.user_id).where(
                    func.lower(col(Person.email)).in_(sorted(emails))
                )
            )
        ).all()
    }
    listed = set(
        (
            await session.exec(
                select(Person.user_id).where(
                    col(Person.user_id).in_([r.slack_user_id for r in rows if r.slack_user_id])
                )
            )
        ).all()
    )
    for row in rows:
        owner = directory.get(row.email or "")
        if row.email and row.slack_user_id and owner and owner != row.slack_user_id:
            report.problems.append(
                f"line {row.line}: {row.email} is {owner}'s e-mail in Slack, not"
                f" {row.slack_user_id}'s"
            )
            continue
        if row.slack_user_id and row.slack_user_id not in listed:
            report.warnings.append(
                f"line {row.line}: {row.slack_user_id} is not in the people directory yet:"
                f" {row.github_login} stays unmatched until Slack lists them"
            )
        found = known.get(row.github_login)
        if found is None:
            session.add(
                PersonIdentity(
                    github_login=row.github_login,
                    email=row.email,
                    slack_user_id=row.slack_user_id,
                    source=source,
                    updated_at=now,
                )
            )
            report.added += 1
        elif (found.email, found.slack_user_id) == (row.email, row.slack_user_id):
            report.unchanged += 1
        else:
            before = found.slack_user_id or directory.get(found.email or "") or found.email
            after = row.slack_user_id or owner or row.email
            if before and after and before != after:
                report.reassigned.append(row.github_login)
            found.email, found.slack_user_id = row.email, row.slack_user_id
            found.source, found.updated_at = source, now
            session.add(found)
            report.updated += 1
    if report.added or report.updated:
        await audit.record(
            session=session,
            actor=actor,
            action="people.import",
            now=now,
            subject=(source_file or source)[:200],
            details={
                "added": report.added,
                "updated": report.updated,
                "reassigned": report.reassigned[:100],
                "source": source,
            },
        )
    return report


@dataclass(frozen=True)
class Match:
    """What a login resolved to: the Slack user (None when unmatched) and why not."""

    slack_user_id: str | None
    reason: str | None = None


async def resolve(*, session: AsyncSession, logins: Iterable[str]) -> dict[str, Match]:
    """Each login (any case) → its `Match`, keyed by the lower-cased login."""
    users = dict((await (await session.connection()).execute(_login_users())).all())
    matches: dict[str, Match] = {}
    for login in sorted({login.lower() for login in logins}):
        if login not in users:
            matches[login] = Match(None, "not in the people CSV")
        elif users[login] is None:
            matches[login] = Match(None, "e-mail not in the Slack directory")
        else:
            matches[login] = Match(str(users[login]))
    return matches


def _login_users() -> Any:
    """Every identity's login and Slack user (None when it has none): the one it names,
    else the directory's person with its e-mail. The matching rule, in one place."""
    person = aliased(Person)
    user = func.coalesce(col(PersonIdentity.slack_user_id), person.user_id)
    return (
        sa_select(col(PersonIdentity.github_login).label("login"), user.label("user_id"))
        .select_from(PersonIdentity)
        .outerjoin(
            person,
            (col(PersonIdentity.slack_user_id).is_(None))
            & (person.email == col(PersonIdentity.email)),
        )
    )


async def emails_to_look_up(*, session: AsyncSession) -> list[str]:
    """E-mails of identities without a Slack user that the people directory does not hold
    (for `users.lookupByEmail`), in order."""
    known = select(Person.email).where(col(Person.email).is_not(None))
    rows = await session.exec(
        select(PersonIdentity.email)
        .where(
            col(PersonIdentity.slack_user_id).is_(None),
            col(PersonIdentity.email).is_not(None),
            col(PersonIdentity.email).not_in(known),
        )
        .order_by(col(PersonIdentity.email))
    )
    return [e for e in rows.all() if e]


async def login_teams(*, session: AsyncSession) -> dict[str, str]:
    """Every known login (lower case) → its coe-bot team name, in one query: the login's
    Slack user (`_login_users`) on the roster."""
    users = _login_users().subquery()
    query = (
        sa_select(users.c.login, col(Team.name))
        .select_from(users)
        .join(TeamMember, col(TeamMember.user_id) == users.c.user_id)
        .join(Team, col(Team.id) == col(TeamMember.team_id))
    )
    rows = await (await session.connection()).execute(query)
    return {str(login).lower(): str(name) for login, name in rows}


async def email_teams(*, session: AsyncSession) -> dict[str, str]:
    """Every e-mail known here (lower case) → its coe-bot team name, for the tools whose
    join key is the e-mail (Cursor): the people directory's person with that e-mail, or a
    people-CSV row naming the e-mail's Slack user, on the roster."""
    directory = sa_select(
        func.lower(col(Person.email)).label("email"), col(Person.user_id).label("user_id")
    ).where(col(Person.email).is_not(None))
    named = sa_select(
        func.lower(col(PersonIdentity.email)).label("email"),
        col(PersonIdentity.slack_user_id).label("user_id"),
    ).where(col(PersonIdentity.email).is_not(None), col(PersonIdentity.slack_user_id).is_not(None))
    users = directory.union(named).subquery()
    query = (
        sa_select(users.c.email, col(Team.name))
        .select_from(users)
        .join(TeamMember, col(TeamMember.user_id) == users.c.user_id)
        .join(Team, col(Team.id) == col(TeamMember.team_id))
    )
    rows = await (await session.connection()).execute(query)
    return {str(email): str(name) for email, name in rows}


@dataclass(frozen=True)
class Unmatched:
    login: str
    reason: str
    seat: bool  # holds a seat in the latest snapshot
    last_day: dt.date | None  # the last day Copilot reported them


async def unmatched(*, session: AsyncSession) -> list[Unmatched]:
    """Every login Copilot reports (latest seats, or any stored day) that matches no Slack
    user, with the reason; by login."""
    latest = (await session.exec(select(func.max(CopilotSeat.snapshot_day)))).one()
    seated = set(
        (
            await session.exec(
                select(CopilotSeat.user_login).where(col(CopilotSeat.snapshot_day) == latest)
            )
        ).all()
        if latest
        else []
    )
    last_days = dict(
        (
            await session.exec(
                select(CopilotUserDay.user_login, func.max(CopilotUserDay.day)).group_by(
                    col(CopilotUserDay.user_login)
                )
            )
        ).all()
    )
    logins = {login.lower(): login for login in [*seated, *last_days]}
    matches = await resolve(session=session, logins=logins)
    seated_lower = {s.lower() for s in seated}
    days_lower = {k.lower(): v for k, v in last_days.items()}
    return [
        Unmatched(
            login=logins[login],
            reason=match.reason or "",
            seat=login in seated_lower,
            last_day=days_lower.get(login),
        )
        for login, match in sorted(matches.items())
        if match.slack_user_id is None
    ]
