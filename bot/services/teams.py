"""Teams: explicit memberships, Slack user groups mapped to teams, and CSV imports."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.db import insert_for
from bot.errors import BadInput
from bot.models import Champion, Team, TeamMember, TeamUsergroup
from bot.services import audit
from bot.views.common import escape

_TEAM = re.compile(r"^[a-z0-9][a-z0-9._-]{0,79}$")
_USER = re.compile(r"^[UW][A-Z0-9]{2,20}$")
TEAM_NAME_MAX = 80
SHAPE = "#shape"  # a row whose values do not match the header: why (refused by import_rows)
GROUP_CACHE_SECONDS = 600.0
GroupMembers = Callable[[str], Awaitable[list[str]]]


def team_name(raw: str) -> str:
    name = raw.strip().lower().replace(" ", "-")
    if len(name) > TEAM_NAME_MAX:
        raise BadInput(
            f"“{raw[:40]}…” is not a team name: it is {len(name)} characters long, "
            f"and a team name is at most {TEAM_NAME_MAX}."
        )
    if not _TEAM.match(name):
        raise BadInput(
            f"“{escape(raw[:80])}” is not a team name: use letters, digits, dots and dashes."
        )
    if name == "all":
        raise BadInput("“all” means everyone on the roster: choose another team name.")
    return name


def parse_topics(raw: str) -> list[str]:
    """Topics separated by commas or semicolons; each is a phrase ("code review", kept as
    "code-review", matched as the words in order: `routing.question_topics`). At most 20."""
    topics = ["-".join(t.strip().lower().split()) for t in re.split(r"[,;]+", raw) if t.strip()]
    for topic in topics:
        if len(topic) > 40:
            raise BadInput(f"“{topic[:30]}…” is not a topic: topics are at most 40 characters.")
        if not re.fullmatch(r"[a-z0-9][a-z0-9+#./-]{0,39}", topic):
            raise BadInput(
                f"“{escape(topic[:40])}” is not a topic: use letters, digits, dashes and slashes; "
                "separate topics with ; in a roster, or commas in `topics=`."
            )
    return list(dict.fromkeys(topics))[:20]


async def get_or_create(*, session: AsyncSession, name: str, now: dt.datetime) -> Team:
    name = team_name(name)
    stmt = insert_for(session, Team).values(name=name, created_at=now).on_conflict_do_nothing()
    await session.exec(stmt)
    return (await session.exec(select(Team).where(col(Team.name) == name))).one()


async def map_usergroup(
    *, session: AsyncSession, usergroup_id: str, team: str, actor: str, now: dt.datetime
) -> Team:
    if not re.fullmatch(r"S[A-Z0-9]{2,}", usergroup_id):
        raise BadInput(f"“{escape(usergroup_id[:40])}” is not a Slack user group ID (S…).")
    found = await get_or_create(session=session, name=team, now=now)
    mapping = await session.get(TeamUsergroup, usergroup_id)
    if mapping is None:
        session.add(TeamUsergroup(usergroup_id=usergroup_id, team_id=found.id or 0))
    else:
        mapping.team_id = found.id or 0
        session.add(mapping)
    await audit.record(
        session=session,
        actor=actor,
        action="team.map_usergroup",
        subject=usergroup_id,
        details={"team": found.name},
        now=now,
    )
    return found


async def set_member(*, session: AsyncSession, user_id: str, team: Team, now: dt.datetime) -> None:
    member = await session.get(TeamMember, user_id)
    if member is None:
        session.add(TeamMember(user_id=user_id, team_id=team.id or 0, updated_at=now))
    else:
        member.team_id, member.updated_at = team.id or 0, now
        session.add(member)


async def roster_of(*, session: AsyncSession, name: str) -> tuple[set[str], list[str]]:
    """Who the roster names for team `name` — members and champions, user IDs — and the
    Slack user groups mapped to it, whose members only Slack knows; `all` is everyone on
    the roster (no groups). Raises BadInput for an empty roster or a team that does not
    exist."""
    if name.lower() == "all":
        everyone = set((await session.exec(select(TeamMember.user_id))).all())
        everyone |= set((await session.exec(select(Champion.user_id))).all())
        if not everyone:
            raise BadInput(
                "The roster is empty: import it with `coe-bot teams import` first, or send "
                "the survey `to #channel`. Nothing was sent."
            )
        return everyone, []
    team = (await session.exec(select(Team).where(col(Team.name) == name.lower()))).first()
    if team is None:
        raise BadInput(f"There is no team “{escape(name[:80])}”.")
    people = set(
        (
            await session.exec(select(TeamMember.user_id).where(col(TeamMember.team_id) == team.id))
        ).all()
    )
    people |= set(
        (await session.exec(select(Champion.user_id).where(col(Champion.team_id) == team.id))).all()
    )
    groups = (
        await session.exec(
            select(TeamUsergroup.usergroup_id).where(col(TeamUsergroup.team_id) == team.id)
        )
    ).all()
    return people, list(groups)


class TeamDirectory:
    """Which team a person is in: an explicit mapping, else a mapped Slack user group.

    User-group members come from `usergroups.users.list`, cached for ten minutes.
    """

    def __init__(self, fetch_members: GroupMembers, *, ttl: float = GROUP_CACHE_SECONDS) -> None:
        self._fetch = fetch_members
        self._ttl = ttl
        self._cache: dict[str, tuple[float, frozenset[str]]] = {}

    async def team_of(self, session: AsyncSession, user_id: str) -> Team | None:
        member = await session.get(TeamMember, user_id)
        if member is not None:
            return await session.get(Team, member.team_id)
        champion = await session.get(Champion, user_id)
        if champion is not None:
            return await session.get(Team, champion.team_id)
        mappings = (await session.exec(select(TeamUsergroup))).all()
        for mapping in sorted(mappings, key=lambda m: m.usergroup_id):
            if user_id in await self._members(mapping.usergroup_id):
                return await session.get(Team, mapping.team_id)
        return None

    async def _members(self, group: str) -> frozenset[str]:
        cached = self._cache.get(group)
        now = time.monotonic()
        if cached and now - cached[0] < self._ttl:
            return cached[1]
        members = frozenset(await self._fetch(group))
        self._cache[group] = (now, members)
        return members


class TeamTiers:
    """Each person's team and its default policy tier, held in memory so `/ai-policy`
    answers without the database. Loaded at start, after `teams map … tier=` and an
    import in this process, and every `TEAM_TIERS_REFRESH` seconds (other replicas'
    changes). People count by explicit membership, else as a champion; members of a
    mapped Slack user group only once they are members (user groups are looked up
    through Slack, which an answer must not wait for)."""

    def __init__(self) -> None:
        self._by_user: dict[str, tuple[str, str]] = {}

    def of(self, user_id: str) -> tuple[str, str] | None:
        """(team name, tier id) for `user_id`, or None when their team has no tier."""
        return self._by_user.get(user_id)

    def __len__(self) -> int:
        return len(self._by_user)

    async def load(self, session: AsyncSession) -> None:
        teams = (await session.exec(select(Team).where(col(Team.tier).is_not(None)))).all()
        tiered = {t.id: (t.name, t.tier or "") for t in teams}
        by_user: dict[str, tuple[str, str]] = {}
        if tiered:
            champions_of = select(Champion.user_id, Champion.team_id).where(
                col(Champion.team_id).in_(tiered)
            )
            members_of = select(TeamMember.user_id, TeamMember.team_id).where(
                col(TeamMember.team_id).in_(tiered)
            )
            for user_id, team_id in (await session.exec(champions_of)).all():
                by_user[user_id] = tiered[team_id]
            for user_id, team_id in (await session.exec(members_of)).all():
                by_user[user_id] = tiered[team_id]  # membership wins, as in `team_of`
        self._by_user = by_user  # one assignment: readers never see half a load


TEAM_TIERS_REFRESH = 60.0


async def set_tier(
    *,
    session: AsyncSession,
    team: str,
    tier: str | None,
    known_tiers: Sequence[str],
    actor: str,
    now: dt.datetime,
) -> Team:
    """Give `team` a default tier (a pack tier id), or none; raise `BadInput` for an
    unknown tier. Audited as `team.tier`."""
    if tier is not None and tier not in known_tiers:
        raise BadInput(
            f"“{escape(tier[:60])}” is not a tier of the policy pack: use one of "
            f"{', '.join(known_tiers)}, or `none`."
        )
    found = await get_or_create(session=session, name=team, now=now)
    before = found.tier
    found.tier = tier
    session.add(found)
    await audit.record(
        session=session,
        actor=actor,
        action="team.tier",
        subject=found.name,
        details={"tier": tier, "was": before},
        now=now,
    )
    return found


@dataclass(slots=True)
class ImportReport:
    members: int = 0
    champions: int = 0
    tiers: int = 0  # teams whose default tier was set
    problems: list[str] = field(default_factory=list)
    # rows imported for people the directory knows as deactivated or bots (never routed to)
    flagged: list[str] = field(default_factory=list)
    unknown: int = 0  # people the directory has not heard of yet (checked on its next sync)
    removed: int = 0  # with replace: people not in the file, taken out of their team
    retired: int = 0  # with replace: champions not in the file, no longer routed to


class RosterRefused(BadInput):
    """A `replace` import of a file with problems: nothing was changed (`report` says why)."""

    def __init__(self, report: ImportReport) -> None:
        super().__init__(
            "a file that replaces the roster must have no problems: nothing was imported"
        )
        self.report = report


def read_csv(text: str) -> list[tuple[int, dict[str, str]]]:
    """Rows of `user_id,team,is_champion,topics[,tier][,owner]` with their line numbers. A row with
    fewer or more values than the header (often topics with an unquoted comma) carries
    `SHAPE`, saying so, and `import_rows` refuses it."""
    reader = csv.DictReader(io.StringIO(text))
    wanted = {"user_id", "team", "is_champion", "topics"}
    if reader.fieldnames is None or not wanted <= {f.strip() for f in reader.fieldnames}:
        raise BadInput("the first line must be the header: user_id,team,is_champion,topics")
    columns = len(reader.fieldnames)
    rows: list[tuple[int, dict[str, str]]] = []
    for row in reader:
        values = {k.strip(): (v or "").strip() for k, v in row.items() if isinstance(k, str)}
        extra = row.get(None)
        given = columns - sum(1 for v in row.values() if v is None) + len(extra or [])
        if given != columns:
            values[SHAPE] = f"{given} values where the header has {columns}" + (
                " (quote topics that contain commas)" if extra else ""
            )
        rows.append((reader.line_num, values))
    return rows


async def import_rows(
    *,
    session: AsyncSession,
    rows: Sequence[tuple[int, dict[str, str]]],
    actor: str,
    now: dt.datetime,
    known_tiers: Sequence[str] = (),
    replace: bool = False,
) -> ImportReport:
    """Create or update memberships and champions; importing again changes nothing twice.
    A `tier` column sets each team's default tier (`known_tiers`: the pack's ids); two
    rows of one team with different tiers are a problem naming both lines, and that
    team's tier is left as it was.

    With `replace` the file is the whole roster: people not in it leave their team and
    champions not in it are retired (each audited). Raises RosterRefused, before the
    caller's transaction commits, when such a file has any problem: a half-read roster
    never removes anyone."""
    from bot.services import champions

    report = ImportReport()
    for named, owner in _team_owners(rows, report.problems).items():
        found = await get_or_create(session=session, name=named, now=now)
        if found.owner != owner:
            await audit.record(
                session=session,
                actor=actor,
                action="team.owner",
                subject=found.name,
                details={"owner": owner, "was": found.owner},
                now=now,
            )
            found.owner = owner
            session.add(found)
    for named, tier in _team_tiers(rows, known_tiers, report.problems).items():
        await set_tier(
            session=session, team=named, tier=tier, known_tiers=known_tiers, actor=actor, now=now
        )
        report.tiers += 1
    imported: list[tuple[int, dict[str, str]]] = []
    seen: dict[str, int] = {}
    for line, row in rows:
        try:
            user_id, name, is_champion, topics = _parse_row(row)
        except BadInput as problem:
            report.problems.append(f"line {line}: {problem}")
            continue
        if user_id in seen:
            report.problems.append(
                f"line {line}: {user_id} is also on line {seen[user_id]}; only that line "
                "was imported"
            )
            continue
        seen[user_id] = line
        team = await get_or_create(session=session, name=name, now=now)
        imported.append((line, {"user_id": user_id}))
        await set_member(session=session, user_id=user_id, team=team, now=now)
        report.members += 1
        if is_champion:
            before = await session.get(Champion, user_id)
            was = (before.active, before.team_id, before.topics_text) if before else None
            await champions.upsert(
                session=session, user_id=user_id, team=team, topics=topics, now=now
            )
            report.champions += 1
            if was != (True, team.id, " ".join(topics)):  # every change to a champion, once
                await audit.record(
                    session=session,
                    actor=actor,
                    action="champion.add",
                    subject=user_id,
                    details={"team": team.name, "topics": topics, "source": "import"},
                    now=now,
                )
        elif await champions.retire(session=session, user_id=user_id, reason="import", now=now):
            await audit.record(
                session=session,
                actor=actor,
                action="champion.remove",
                subject=user_id,
                details={"reason": "is_champion false in an import", "source": "import"},
                now=now,
            )
    if replace and report.problems:
        raise RosterRefused(report)
    if replace:
        await _replace(session, set(seen), report, actor=actor, now=now)
    await _flag(session, imported, report)
    await audit.record(
        session=session,
        actor=actor,
        action="teams.import",
        details={
            "members": report.members,
            "champions": report.champions,
            "problems": len(report.problems),
            "flagged": len(report.flagged),
            "replace": replace,
            "removed": report.removed,
            "retired": report.retired,
        },
        now=now,
    )
    return report


async def _replace(
    session: AsyncSession, listed: set[str], report: ImportReport, *, actor: str, now: dt.datetime
) -> None:
    """Everyone not in `listed` leaves their team; champions among them are retired."""
    from bot.services import champions

    for member in (await session.exec(select(TeamMember))).all():
        if member.user_id not in listed:
            await session.delete(member)
            report.removed += 1
    active = (await session.exec(select(Champion).where(col(Champion.active)))).all()
    for champion in active:
        if champion.user_id in listed:
            continue
        await champions.retire(
            session=session, user_id=champion.user_id, reason="not in the roster", now=now
        )
        report.retired += 1
        await audit.record(
            session=session,
            actor=actor,
            action="champion.remove",
            subject=champion.user_id,
            details={"reason": "not in the roster file (replace)", "source": "import"},
            now=now,
        )


async def _flag(
    session: AsyncSession, rows: Sequence[tuple[int, dict[str, str]]], report: ImportReport
) -> None:
    """Report imported rows for accounts the people directory knows as deactivated or
    bots: they are imported (Slack may reactivate them) but routing never picks them; and
    count the people it does not know yet."""
    from bot.services import people

    lines = {row.get("user_id", ""): line for line, row in rows if row.get("user_id")}
    entries = await people.known(session=session, user_ids=list(lines))
    report.unknown = sum(1 for u in lines if u not in entries)
    for user_id, line in sorted(lines.items(), key=lambda item: item[1]):
        person = entries.get(user_id)
        if person is None or person.reachable:
            continue
        what = "a deactivated Slack account" if person.deleted else "a bot"
        report.flagged.append(f"line {line}: {user_id} is {what}: imported, never routed to")


def _team_tiers(
    rows: Sequence[tuple[int, dict[str, str]]], known: Sequence[str], problems: list[str]
) -> dict[str, str]:
    """{team: tier} from the rows' `tier` column; conflicts and unknown tiers go to
    `problems` (and that team gets no tier from this import)."""
    first: dict[str, tuple[int, str]] = {}
    conflicted: set[str] = set()
    for line, row in rows:
        tier = row.get("tier", "").strip().lower()
        if not tier:
            continue
        try:
            team = team_name(row.get("team", ""))
        except BadInput:
            continue  # reported with the row itself
        if tier not in known:
            problems.append(f"line {line}: “{tier[:60]}” is not a tier ({', '.join(known)})")
            conflicted.add(team)
            continue
        seen = first.setdefault(team, (line, tier))
        if seen[1] != tier and team not in conflicted:
            problems.append(
                f"lines {seen[0]} and {line}: team {team} has two tiers, "
                f"“{seen[1]}” and “{tier}”; its tier was not changed"
            )
            conflicted.add(team)
    return {team: tier for team, (_, tier) in first.items() if team not in conflicted}


def _team_owners(rows: Sequence[tuple[int, dict[str, str]]], problems: list[str]) -> dict[str, str]:
    """{team: owner's Slack user ID} from the rows' `owner` column; a bad ID or two owners
    for one team go to `problems` (and that team's owner is left as it was)."""
    first: dict[str, tuple[int, str]] = {}
    conflicted: set[str] = set()
    for line, row in rows:
        owner = row.get("owner", "").strip()
        if not owner:
            continue
        try:
            team = team_name(row.get("team", ""))
        except BadInput:
            continue  # reported with the row itself
        if not _USER.match(owner):
            problems.append(f"line {line}: owner “{owner[:24]}” is not a Slack user ID")
            conflicted.add(team)
            continue
        seen = first.setdefault(team, (line, owner))
        if seen[1] != owner and team not in conflicted:
            problems.append(
                f"lines {seen[0]} and {line}: team {team} has two owners, {seen[1]} and"
                f" {owner}; its owner was not changed"
            )
            conflicted.add(team)
    return {team: owner for team, (_, owner) in first.items() if team not in conflicted}


def _parse_row(row: dict[str, str]) -> tuple[str, str, bool, list[str]]:
    if SHAPE in row:
        raise BadInput(f"{row[SHAPE]}; nothing was imported from it")
    user_id = row.get("user_id", "")
    if not _USER.match(user_id):
        shown = f"“{user_id[:24]}…”" if len(user_id) > 24 else f"“{user_id}”"
        raise BadInput(f"{shown} is not a Slack user ID (like U0123ABCD)")
    flag = row.get("is_champion", "").lower()
    if flag not in {"true", "false", "yes", "no", "1", "0", ""}:
        raise BadInput(f"is_champion must be true or false, not “{escape(flag[:10])}”")
    topics = parse_topics(row.get("topics", "").replace(";", ","))
    return user_id, team_name(row.get("team", "")), flag in {"true", "yes", "1"}, topics
