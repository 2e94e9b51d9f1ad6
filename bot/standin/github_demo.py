"""A made-up organisation's Copilot seats and usage, for `FakeGitHub`, demos and benchmarks.

`build_demo(people=400, days=120, seed=7, end_day=...)` describes ~8-12 teams of varied
size (two under 5 people, so the user-teams report leaves them out), each adopting Copilot
in a different week; people get a seat some days after their team (a few never), then use
it more as weeks pass, mostly on weekdays. Some seats sit idle (never used, or not since
long ago), a few are pending cancellation. People lean on completions, chat, agent mode
and the CLI to different degrees.

Records follow the users-1-day schema (facts §1.5,
https://docs.github.com/en/copilot/reference/copilot-usage-metrics/copilot-usage-metrics):
every breakdown is built from the same (feature, language, model) cells, so the totals
add up; acceptances never exceed generations; agent edits land in `loc_added_sum` under
`agent_edit` with no suggested lines; CLI use only in `totals_by_cli`. Records are made
per (person, day) from a hash of (seed, person, day): nothing is held, so `records(day)`
scales to 20,000 people x 365 days, and the same arguments give the same data.

    demo = build_demo(end_day=dt.date(2026, 5, 7))
    demo.install(github)  # seats, and lazy sources for both reports
"""

from __future__ import annotations

import datetime as dt
import math
import random
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .github import FakeGitHub

TEAMS = (
    ("Platform", "platform", ("go", "python", "hcl")),
    ("Payments", "payments", ("java", "kotlin", "sql")),
    ("Mobile", "mobile", ("swift", "kotlin", "typescript")),
    ("Data", "data-eng", ("python", "sql", "scala")),
    ("Web", "web", ("typescript", "javascript", "css")),
    ("Search", "search", ("java", "python")),
    ("Identity", "identity", ("go", "typescript")),
    ("Growth", "growth", ("typescript", "python", "unknown")),
    ("ML", "ml-research", ("python", "unknown")),
    ("Security", "security", ("go", "rust", "python")),
    ("Design Systems", "design-systems", ("typescript", "css")),
    ("Developer Tools", "devtools", ("rust", "go", "shell")),
)
FIRST = (
    "ana", "bruno", "carla", "diego", "elena", "farid", "grace", "hugo", "ines", "jonas",
    "kemi", "lucas", "maya", "nikhil", "olga", "pedro", "quinn", "rosa", "samir", "tara",
    "umar", "vera", "wei", "ximena", "yusuf", "zoe", "amara", "ben", "chloe", "dario",
)  # fmt: skip
LAST = (
    "silva", "okafor", "tanaka", "muller", "rossi", "nguyen", "kowalski", "haddad", "berg",
    "costa", "ivanova", "patel", "oconnor", "garcia", "lindqvist", "mensah", "novak", "sato",
    "dubois", "fischer", "reyes", "khan", "moreau", "jensen", "abebe", "park", "weber",
)  # fmt: skip
# (ide, ide version, plugin, plugin version, share of people in %)
IDES = (
    ("vscode", "1.108.0", "copilot-chat", "0.36.1", 65),
    ("jetbrains", "2026.1", "copilot-intellij", "1.5.60", 20),
    ("visualstudio", "17.14.8", "copilot-vs", "1.290.0", 8),
    ("neovim", "0.11.2", "copilot.vim", "1.48.0", 4),
    ("xcode", "26.0", "copilot-xcode", "0.42.0", 3),
)
# Chat models and the AI credits one prompt costs (included models cost none).
CREDITS = {"gpt-4.1": 0.0, "gpt-5-mini": 0.0, "claude-sonnet-4.5": 1.0, "gemini-2.5-pro": 1.0}
MODELS = tuple(CREDITS)
COUNTERS = (
    "code_generation_activity_count", "code_acceptance_activity_count",
    "loc_suggested_to_add_sum", "loc_suggested_to_delete_sum", "loc_added_sum", "loc_deleted_sum",
)  # fmt: skip
INTERACTIONS = "user_initiated_interaction_count"
KEYS = (INTERACTIONS, *COUNTERS)
Cell = tuple[str, str, str | None, tuple[int, ...]]
CHAT_FEATURES = frozenset(
    {"chat_panel_ask_mode", "chat_panel_edit_mode", "chat_panel_custom_mode", "chat_inline"}
)  # feature, language, model, KEYS values


@dataclass(frozen=True)
class DemoTeam:
    name: str  # the coe-bot team name
    slug: str  # the GitHub team slug
    team_id: int
    adopted_on: dt.date  # when the team's seats were first granted
    languages: tuple[str, ...]


@dataclass(frozen=True)
class DemoPerson:
    github_id: int
    login: str
    email: str
    slack_user_id: str
    name: str
    team: str
    team_slug: str
    seat_since: dt.date | None  # None: never given a seat (by end_day)


@dataclass(frozen=True)
class _Habits:
    """How one person uses Copilot; probabilities are per active day."""

    style: str  # "active", "never" (idle seat) or "churned" (stopped at `stop_on`)
    stop_on: dt.date | None
    weekday: float
    weekend: float
    ramp_days: int
    completions: float
    accept_rate: float
    chat: float
    agent: float
    cli: float
    review: float
    ide: int
    languages: tuple[str, ...]
    models: tuple[str, ...]
    telemetry: bool  # False: server-side only, so the breakdowns come back empty
    cancelling: bool
    assigned_by_team: bool
    champion: bool


def _mix(*values: int) -> int:
    """A 64-bit hash of ints (splitmix64 steps): stable across runs, unlike `hash`."""
    x = 0x9E3779B97F4A7C15
    for value in values:
        x = (x ^ (value & 0xFFFFFFFFFFFFFFFF)) * 0xBF58476D1CE4E5B9 & 0xFFFFFFFFFFFFFFFF
        x = (x ^ (x >> 31)) * 0x94D049BB133111EB & 0xFFFFFFFFFFFFFFFF
    return x ^ (x >> 29)


def _poisson(rng: random.Random, mean: float) -> int:
    if mean <= 0:
        return 0
    if mean > 30:
        return max(0, round(rng.gauss(mean, math.sqrt(mean))))
    limit, k, p = math.exp(-mean), 0, rng.random()
    while p > limit:
        k, p = k + 1, p * rng.random()
    return k


def _binomial(rng: random.Random, n: int, p: float) -> int:
    if n > 25:
        return min(n, max(0, round(rng.gauss(n * p, math.sqrt(n * p * (1 - p))))))
    return sum(rng.random() < p for _ in range(n))


class DemoOrg:
    """The demo organisation: people, teams, seats and lazy report sources."""

    def __init__(self, *, seed: int, start_day: dt.date, end_day: dt.date) -> None:
        self.seed = seed
        self.start_day = start_day
        self.end_day = end_day
        self.people: list[DemoPerson] = []
        self.teams: list[DemoTeam] = []
        self.champions = DemoTeam("AI Champions", "ai-champions", 4_200_999, start_day, ())
        self._habits: list[_Habits] = []
        self._team_of: dict[str, DemoTeam] = {}

    # -- what FakeGitHub serves -------------------------------------------------------

    def install(self, github: FakeGitHub) -> None:
        """Seats as of `end_day`, and lazy sources for users-1-day and user-teams-1-day."""
        github.set_seats(self.seats(org=github.org, org_id=github.org_id))
        github.source = self.records
        github.team_source = self.team_rows

    def records(self, day: dt.date) -> Iterator[dict[str, Any]]:
        """users-1-day records for `day` (only people active that day), made one by one."""
        if not self.start_day <= day <= self.end_day:
            return
        for index, person in enumerate(self.people):
            rng = self._active_rng(index, day)
            if rng is not None and not self._unseen(index):
                yield self._record(person, self._habits[index], day, rng)

    def _unseen(self, index: int) -> bool:
        """Half of the people with IDE telemetry off use only IDE completions: no report
        sees them, and their seat looks unused although they sign in (MEASUREMENT_FACTS §1:
        IDE data needs IDE telemetry on)."""
        return not self._habits[index].telemetry and index % 2 == 0

    def team_rows(self, day: dt.date) -> Iterator[dict[str, Any]]:
        """user-teams-1-day rows: every seated person's team (and the champions team)."""
        if not self.start_day <= day <= self.end_day:
            return
        for index, person in enumerate(self.people):
            if person.seat_since is None or person.seat_since > day:
                continue
            base = {"user_id": person.github_id, "user_login": person.login, "day": str(day)}
            team = self._team_of[person.team]
            yield {**base, "team_id": team.team_id, "slug": team.slug}
            if self._habits[index].champion:
                yield {**base, "team_id": self.champions.team_id, "slug": self.champions.slug}

    def seats(self, *, org: str = "standin-org", org_id: int = 1_000_001) -> list[dict[str, Any]]:
        """Seat objects (facts §2) for everyone seated by `end_day`."""
        return [
            self._seat(person, index, org, org_id)
            for index, person in enumerate(self.people)
            if person.seat_since is not None
        ]

    def last_active(self, index: int) -> dt.date | None:
        """The person's latest day with a record, scanning back from `end_day`."""
        since = self.people[index].seat_since
        day = self.end_day
        while since is not None and day >= max(since, self.start_day):
            if self._active_rng(index, day) is not None:
                return day
            day -= dt.timedelta(days=1)
        return None

    # -- making it ------------------------------------------------------------------------

    def add_team(self, team: DemoTeam) -> None:
        self.teams.append(team)
        self._team_of[team.name] = team

    def add_person(self, rng: random.Random, team: DemoTeam, names: Counter[str]) -> None:
        """Add someone to `team`: a name, ids, maybe a seat, and their habits."""
        index = len(self.people)
        first, last = rng.choice(FIRST), rng.choice(LAST)
        names[f"{first}.{last}"] += 1
        suffix = "" if names[f"{first}.{last}"] == 1 else str(names[f"{first}.{last}"])
        lag = 0 if rng.random() < 0.55 else rng.randint(1, 35)
        seated = team.adopted_on + dt.timedelta(days=lag)
        never = rng.random() < 0.08 or seated > self.end_day  # never given a seat
        seat_since = None if never else seated
        self.people.append(
            DemoPerson(
                github_id=10_000_000 + index * 37 + rng.randint(0, 30),
                login=f"{first}-{last}{suffix}",
                email=f"{first}.{last}{suffix}@example.com",
                slack_user_id=f"U0D{index + 1:04d}",
                name=f"{first.title()} {last.title()}",
                team=team.name,
                team_slug=team.slug,
                seat_since=seat_since,
            )
        )
        self._habits.append(_make_habits(rng, team, seat_since))

    def _active_rng(self, index: int, day: dt.date) -> random.Random | None:
        """A Random for (person, day) when the person used Copilot that day, else None."""
        since, habits = self.people[index].seat_since, self._habits[index]
        if since is None or not (max(since, self.start_day) <= day <= self.end_day):
            return None
        if habits.style == "never" or (habits.stop_on is not None and day > habits.stop_on):
            return None
        ramp = min(1.0, ((day - since).days + 1) / habits.ramp_days)
        chance = (habits.weekday if day.weekday() < 5 else habits.weekend) * (0.25 + 0.75 * ramp)
        mixed = _mix(self.seed, index, day.toordinal())
        if (mixed >> 11) / 2**53 >= chance:
            return None
        return random.Random(mixed)

    def _record(
        self, person: DemoPerson, habits: _Habits, day: dt.date, rng: random.Random
    ) -> dict[str, Any]:
        ramp = min(1.0, (((day - (person.seat_since or day)).days + 1) / habits.ramp_days))
        cells = _cells(habits, rng, 0.3 + 0.7 * ramp)
        features = {cell[0] for cell in cells}
        record: dict[str, Any] = {
            "day": str(day),
            "user_id": person.github_id,
            "user_login": person.login,
            **_sum(cells, interactions=True),
            # agent and plan modes live in the chat panel but count as agent use here
            "used_chat": bool(features & CHAT_FEATURES),
            "used_agent": "agent_edit" in features,
            "used_cli": rng.random() < habits.cli,
            "used_copilot_code_review_active": rng.random() < habits.review * 0.3,
            "used_copilot_code_review_passive": rng.random() < habits.review,
        }
        record.update(_breakdowns(cells, habits, day, rng) if habits.telemetry else _empty())
        if record["used_cli"]:
            record["totals_by_cli"] = _cli(day, rng)
        credits = sum(c[3][0] * CREDITS[c[2]] for c in cells if c[2] is not None)
        if credits:
            record["ai_credits_used"] = round(credits, 2)
        return record

    def _seat(self, person: DemoPerson, index: int, org: str, org_id: int) -> dict[str, Any]:
        habits, team = self._habits[index], self._team_of[person.team]
        since = person.seat_since or self.end_day
        rng = random.Random(_mix(self.seed, index, 7))
        created = dt.datetime.combine(since, dt.time(rng.randint(7, 17), rng.randint(0, 59)))
        last = self.last_active(index)
        signed_in = last or since
        if not habits.telemetry:  # IDE activity needs telemetry: the seat looks unused
            last = None
        ide = IDES[habits.ide]
        next_cycle = (self.end_day.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
        return {
            "created_at": _stamp(created),
            "updated_at": _stamp(created),
            "pending_cancellation_date": str(next_cycle) if habits.cancelling else None,
            "last_activity_at": _stamp(last, hour=rng.randint(8, 18)) if last else None,
            "last_activity_editor": f"{ide[0]}/{ide[1]}/{ide[2]}/{ide[3]}" if last else None,
            "last_authenticated_at": _stamp(signed_in, hour=rng.randint(7, 9)),
            "plan_type": "business",
            "assignee": {
                "login": person.login,
                "id": person.github_id,
                "node_id": f"U_standin{person.github_id}",
                "type": "User",
                "site_admin": False,
            },
            "organization": {"login": org, "id": org_id},
            "assigning_team": (
                {"id": team.team_id, "slug": team.slug, "name": team.name}
                if habits.assigned_by_team
                else None
            ),
        }


def _cells(habits: _Habits, rng: random.Random, level: float) -> list[Cell]:
    """The day's (feature, language, model) counters; chat and agent are prompt-driven."""
    language = habits.languages[0]
    cells: list[Cell] = []
    shown = _poisson(rng, habits.completions * level)
    other = _binomial(rng, shown, 0.3) if len(habits.languages) > 1 and shown > 4 else 0
    for lang, generated in ((language, shown - other), (habits.languages[-1], other)):
        if generated:
            accepted = _binomial(rng, generated, habits.accept_rate)
            lines = generated + _poisson(rng, generated * 1.5)
            added = min(lines, accepted + _poisson(rng, accepted))
            counts = _counts(generated, accepted, lines, added, 0)
            cells.append(("code_completion", lang, None, counts))
    model = rng.choice(habits.models)
    if rng.random() < habits.chat * level:
        prompts = 1 + _poisson(rng, 3 * level)
        generated = prompts + _poisson(rng, prompts * 0.6)
        accepted = _binomial(rng, generated, 0.35)
        lines = generated * rng.randint(3, 14)
        feature = "chat_panel_ask_mode" if rng.random() < 0.8 else "chat_inline"
        added = min(lines, accepted * rng.randint(2, 10))
        cells.append(
            (feature, language, model, _counts(generated, accepted, lines, added, prompts))
        )
    if rng.random() < habits.agent * level:
        prompts = 1 + _poisson(rng, 2 * level)
        generated = prompts + _poisson(rng, prompts)
        accepted = _binomial(rng, generated, 0.5)
        mode = "chat_panel_agent_mode" if rng.random() < 0.85 else "chat_panel_plan_mode"
        cells.append((mode, language, model, _counts(generated, accepted, 0, 0, prompts)))
        edits, added = 1 + _poisson(rng, 2 * prompts), rng.randint(15, 120) * prompts
        cells.append(("agent_edit", language, model, _counts(edits, 0, 0, added, 0, deleted=True)))
    if not cells:  # an active day shows at least one completion
        cells.append(("code_completion", language, None, _counts(1, 0, 1, 0, 0)))
    return cells


def _counts(
    generated: int, accepted: int, lines: int, added: int, prompts: int, *, deleted: bool = False
) -> tuple[int, ...]:
    """Counter values in `KEYS` order; no suggested deletions yet (a "future" field)."""
    removed = added // 3 if deleted else added // 12
    return (prompts, generated, accepted, lines, 0, added, removed)


def _sum(cells: list[Cell], *, interactions: bool) -> dict[str, int]:
    totals = (
        cells[0][3]
        if len(cells) == 1
        else [sum(v) for v in zip(*(c[3] for c in cells), strict=True)]
    )
    pairs = zip(KEYS, totals, strict=True)
    return dict(pairs) if interactions else {k: v for k, v in pairs if k != INTERACTIONS}


def _group(cells: list[Cell], names: tuple[str, ...], *, interactions: bool) -> list[Any]:
    """Sum cells by the named dimensions ("feature", "language", "model")."""
    groups: dict[tuple[str | None, ...], list[Cell]] = {}
    at = [("feature", "language", "model").index(name) for name in names]
    for cell in cells:
        dims = cell[:3]
        key = tuple(dims[i] for i in at)
        if None not in key:
            groups.setdefault(key, []).append(cell)
    return [
        {**dict(zip(names, key, strict=True)), **_sum(group, interactions=interactions)}
        for key, group in groups.items()
    ]


def _breakdowns(
    cells: list[Cell], habits: _Habits, day: dt.date, rng: random.Random
) -> dict[str, Any]:
    ide, ide_version, plugin, plugin_version, _ = IDES[habits.ide]
    sampled = f"{day}T{rng.randint(7, 19):02d}:{rng.randint(0, 59):02d}:00.000Z"
    return {
        "totals_by_ide": [
            {
                "ide": ide,
                **_sum(cells, interactions=True),
                "last_known_ide_version": {"ide_version": ide_version, "sampled_at": sampled},
                "last_known_plugin_version": {
                    "plugin": plugin,
                    "plugin_version": plugin_version,
                    "sampled_at": sampled,
                },
            }
        ],
        "totals_by_feature": _group(cells, ("feature",), interactions=True),
        "totals_by_language_feature": _group(cells, ("language", "feature"), interactions=False),
        "totals_by_language_model": _group(cells, ("language", "model"), interactions=False),
        "totals_by_model_feature": _group(cells, ("model", "feature"), interactions=True),
    }


def _empty() -> dict[str, Any]:
    names = ("ide", "feature", "language_feature", "language_model", "model_feature")
    return {f"totals_by_{name}": [] for name in names}


def _cli(day: dt.date, rng: random.Random) -> dict[str, Any]:
    sessions = 1 + _poisson(rng, 1.0)
    requests = sessions * rng.randint(2, 12)
    prompt_tokens = requests * rng.randint(2000, 12000)
    output_tokens = requests * rng.randint(150, 900)
    return {
        "session_count": sessions,
        "request_count": requests,
        "prompt_count": min(requests, sessions * rng.randint(1, 5)),
        "token_usage": {
            "prompt_tokens_sum": prompt_tokens,
            "output_tokens_sum": output_tokens,
            "avg_tokens_per_request": round((prompt_tokens + output_tokens) / requests, 1),
        },
        "last_known_cli_version": {"cli_version": "0.0.352", "sampled_at": f"{day}T15:00:00.000Z"},
    }


def _stamp(value: dt.date | dt.datetime, *, hour: int = 0) -> str:
    if not isinstance(value, dt.datetime):
        value = dt.datetime.combine(value, dt.time(hour, 17))
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def build_demo(*, people: int = 400, days: int = 120, seed: int = 7, end_day: dt.date) -> DemoOrg:
    """The demo organisation; the same arguments always give the same organisation."""
    if people < 1 or days < 1:
        raise ValueError("people and days must be >= 1")
    rng = random.Random(seed)
    start_day = end_day - dt.timedelta(days=days - 1)
    demo = DemoOrg(seed=seed, start_day=start_day, end_day=end_day)
    sizes = _team_sizes(rng, people)
    rng.shuffle(sizes)
    # Adoption weeks spread from a week before the window to four weeks before its end.
    first = start_day - dt.timedelta(days=7 + start_day.weekday())
    weeks = max(1, (end_day - dt.timedelta(days=28) - first).days // 7)
    order = rng.sample(range(len(sizes)), len(sizes))
    names: Counter[str] = Counter()
    for slot, (team_index, size) in enumerate(zip(order, sizes, strict=True)):
        name, slug, languages = TEAMS[team_index]
        week = slot * weeks // len(sizes)
        adopted = first + dt.timedelta(weeks=week, days=rng.randint(0, 3))
        team = DemoTeam(name, slug, 4_200_000 + team_index, adopted, languages)
        demo.add_team(team)
        for _ in range(size):
            demo.add_person(rng, team, names)
    return demo


def _team_sizes(rng: random.Random, people: int) -> list[int]:
    """8-12 team sizes summing to `people`: two tiny teams (3 and 4), the rest varied."""
    count = min(rng.randint(8, 12), max(1, people // 5))
    if count < 3 or people < 40:
        base = [people // count] * count
        base[0] += people - sum(base)
        return base
    weights = [rng.lognormvariate(0, 0.6) for _ in range(count - 2)]
    rest = people - 7
    sizes = [max(5, int(rest * w / sum(weights))) for w in weights]
    sizes[sizes.index(max(sizes))] += rest - sum(sizes)
    return [*sizes, 3, 4]


def _make_habits(rng: random.Random, team: DemoTeam, seat_since: dt.date | None) -> _Habits:
    roll = rng.random()
    style = "never" if roll < 0.06 else "churned" if roll < 0.12 else "active"
    stop_on = seat_since + dt.timedelta(days=rng.randint(3, 30)) if seat_since else None
    ide = rng.choices(range(len(IDES)), weights=[i[4] for i in IDES])[0]
    agent = 0.0 if rng.random() < 0.35 else rng.uniform(0.05, 0.7)
    return _Habits(
        style=style,
        stop_on=stop_on if style == "churned" else None,
        weekday=rng.uniform(0.45, 0.95),
        weekend=rng.uniform(0.0, 0.12),
        ramp_days=rng.randint(10, 45),
        completions=rng.lognormvariate(math.log(22), 0.6),
        accept_rate=rng.uniform(0.18, 0.42),
        chat=rng.uniform(0.05, 0.9),
        agent=agent,
        cli=0.0 if rng.random() < 0.7 else rng.uniform(0.1, 0.6),
        review=rng.uniform(0.0, 0.4),
        ide=ide,
        languages=tuple(rng.sample(team.languages, rng.randint(1, len(team.languages)))),
        models=tuple(rng.sample(MODELS, rng.randint(1, 2))),
        telemetry=rng.random() >= 0.03,
        cancelling=rng.random() < (0.25 if style != "active" else 0.01),
        assigned_by_team=rng.random() < 0.75,
        champion=rng.random() < 0.04,
    )


__all__ = ["DemoOrg", "DemoPerson", "DemoTeam", "build_demo"]
