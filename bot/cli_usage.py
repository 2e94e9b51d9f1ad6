"""`coe-bot usage pull|demo` and `coe-bot people import|unmatched`: the AI tools' own usage,
and who a tool's user is."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

from bot import db
from bot.config import Settings, load_settings
from bot.logs import configure_logging
from bot.views.common import plural

EXIT_USAGE = 2
T = TypeVar("T")


def add_parsers(verbs: Any) -> None:
    usage = verbs.add_parser(
        "usage", help="the AI tools' own usage (GitHub Copilot, Cursor, Claude Code)"
    )
    usage_verbs = usage.add_subparsers(dest="usage_verb", required=True)
    pull = usage_verbs.add_parser(
        "pull",
        help="bring in a tool's usage (Copilot by default: usage and seats, the last settled"
        " days D-5 … D-2 UTC; cursor: members, usage, spend; claude-code: Claude Code"
        " analytics), 120 days back the first time",
    )
    pull.add_argument(
        "source",
        nargs="?",
        choices=["copilot", "cursor", "claude-code", "pull-requests"],
        default="copilot",
    )
    pull.add_argument("--since", type=_day, help="first UTC day, YYYY-MM-DD")
    pull.add_argument("--until", type=_day, help="last UTC day, YYYY-MM-DD (Copilot: at most D-2)")
    pull.set_defaults(run=_pull)
    demo = usage_verbs.add_parser(
        "demo",
        help="fill the stand-ins (GitHub, Cursor, Anthropic) with a realistic organisation"
        " (people, teams, seats, months of use) and add its people to the directory and"
        " roster",
    )
    demo.add_argument("--people", type=int, default=400, help="developers (10 to 20,000)")
    demo.add_argument("--days", type=int, default=120, help="days of history (14 to 365)")
    demo.add_argument("--seed", type=int, default=7, help="the same seed makes the same org")
    demo.set_defaults(run=_demo)
    check = usage_verbs.add_parser(
        "guardrails",
        help="the soft guardrails (costs.yaml) teams crossed this month; queues the CoE's"
        " posts as the daily check does",
    )
    check.set_defaults(run=_guardrails)

    people = verbs.add_parser("people", help="who a tool's user is: GitHub login ↔ Slack")
    people_verbs = people.add_subparsers(dest="people_verb", required=True)
    imp = people_verbs.add_parser(
        "import", help="CSV with header slack_user_id,email,github_login (email or user ID)"
    )
    imp.add_argument("file")
    imp.set_defaults(run=_people_import)
    unmatched = people_verbs.add_parser(
        "unmatched", help="GitHub logins Copilot reports that match no Slack user, and why"
    )
    unmatched.set_defaults(run=_people_unmatched)


def _day(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a day (YYYY-MM-DD)") from None


def _settings() -> Settings:
    settings = load_settings()
    configure_logging(settings.log_level, settings.log_format)
    db.prepare(settings.database_url)
    return settings


def _run(settings: Settings, work: Callable[[db.Sessions], Awaitable[T]]) -> T:
    async def main() -> T:
        engine = db.create_engine(settings.database_url)
        try:
            return await work(db.make_sessions(engine))
        finally:
            await engine.dispose()

    return asyncio.run(main())


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _pull(args: argparse.Namespace) -> int:
    from bot.usage import copilot, runs, sources
    from bot.usage.github import GitHubError

    if args.source in ("cursor", "claude-code"):
        return _pull_cursor(args)
    if args.source == "pull-requests":
        return _pull_requests(args)
    settings = _settings()
    now = _now()
    today = now.date()
    newest = today - dt.timedelta(days=copilot.SETTLE_DAYS)
    oldest = today - dt.timedelta(days=copilot.HISTORY_DAYS)
    if args.until and args.until > newest:
        print(
            f"coe-bot: --until {args.until}: GitHub settles a day two days later;"
            f" the newest day to ask for is {newest}",
            file=sys.stderr,
        )
        return EXIT_USAGE
    if args.since and args.since > (args.until or newest):
        print(
            f"coe-bot: --since {args.since} is after --until {args.until}"
            if args.until
            else f"coe-bot: --since {args.since}: the newest settled day is {newest}",
            file=sys.stderr,
        )
        return EXIT_USAGE
    for name, day in (("--since", args.since), ("--until", args.until)):
        if day and day < oldest:
            print(
                f"coe-bot: {name} {day}: GitHub keeps a year of Copilot history; the oldest"
                f" day to ask for is {oldest}",
                file=sys.stderr,
            )
            return EXIT_USAGE

    def started(target: str, first: dt.date, last: dt.date) -> None:
        print(f"Pulling Copilot usage of {target}, {first} … {last} (UTC days)", flush=True)

    async def work(sessions: db.Sessions) -> runs.Pulled:
        return await runs.copilot_pull(
            settings=settings,
            sessions=sessions,
            now=now,
            since=args.since,
            until=args.until,
            progress=_progress_bar(),
            started=started,
            actor="cli",
        )

    try:
        pulled = _run(settings, work)
        run = pulled.run
    except sources.SourceOff as off:
        print(f"coe-bot: {off}", file=sys.stderr)
        return EXIT_USAGE
    except GitHubError as error:
        print(f"\ncoe-bot: {error}", file=sys.stderr)
        return 1
    if pulled.demo_cleared:
        print("The demo organisation's invented Copilot figures were removed.")
    print(copilot.summary(run))
    for item in run.skipped[:10]:
        where = f"{item['file']}, line {item['line']}" if item["line"] else item["file"]
        print(f"  skipped: {where}: {item['reason']}")
    if run.skipped_count > 10:
        print(f"  … and {run.skipped_count - 10:,} more")
    return 0


def _pull_requests(args: argparse.Namespace) -> int:
    """`coe-bot usage pull pull-requests`: every repository's pull requests updated since
    the last pull (a year back the first time), resuming a pull that was stopped."""
    from bot.usage import runs, sources
    from bot.usage.github import GitHubError

    if args.since or args.until:
        print(
            "coe-bot: pull requests take no --since/--until: each pull brings what changed"
            " since the last one",
            file=sys.stderr,
        )
        return EXIT_USAGE
    settings = _settings()
    now = _now()
    print("Pulling pull requests (newest update first, to where the last pull stopped)", flush=True)

    async def work(sessions: db.Sessions) -> Any:
        return await runs.pull_requests_pull(
            settings=settings, sessions=sessions, now=now, actor="cli"
        )

    try:
        done = _run(settings, work)
    except sources.SourceOff as off:
        print(f"coe-bot: {off}", file=sys.stderr)
        return EXIT_USAGE
    except GitHubError as error:
        print(f"coe-bot: {error} (what was stored stays; the next pull resumes)", file=sys.stderr)
        return 1
    if done.forgotten:
        print(f"The pull requests of {done.forgotten} (the demo's) were removed first.")
    print(
        f"Pull requests: {done.repos:,} repositories, {done.stored:,} stored, {done.pages:,}"
        f" pages, {done.points:,} GitHub points, {done.reverts:,} reverts linked"
    )
    return 0


def _pull_cursor(args: argparse.Namespace) -> int:
    """`coe-bot usage pull cursor|claude-code [--since D] [--until D]`: yesterday and today,
    or 120 days back the first time; no day after today."""
    from bot.usage import claude_code, cursor, runs, sources

    settings = _settings()
    now = _now()
    today = now.date()
    if args.until and args.until > today:
        print(f"coe-bot: --until {args.until} is after today ({today}, UTC)", file=sys.stderr)
        return EXIT_USAGE
    if args.since and args.since > (args.until or today):
        print(
            f"coe-bot: --since {args.since} is after {'--until ' if args.until else 'today, '}"
            f"{args.until or today}",
            file=sys.stderr,
        )
        return EXIT_USAGE
    tool = "Cursor" if args.source == "cursor" else "Claude Code"
    pull = runs.cursor_pull if args.source == "cursor" else runs.claude_code_pull
    summary = cursor.summary if args.source == "cursor" else claude_code.summary

    def started(target: str, first: dt.date, last: dt.date) -> None:
        print(f"Pulling {tool} usage ({target}), {first} … {last} (UTC days)", flush=True)

    async def work(sessions: db.Sessions) -> runs.Pulled:
        return await pull(
            settings=settings,
            sessions=sessions,
            now=now,
            since=args.since,
            until=args.until,
            started=started,
            actor="cli",
        )

    try:
        pulled = _run(settings, work)
        run = pulled.run
    except sources.SourceOff as off:
        print(f"coe-bot: {off}", file=sys.stderr)
        return EXIT_USAGE
    except (cursor.CursorError, claude_code.AnthropicError) as error:
        print(f"coe-bot: {error}", file=sys.stderr)
        return 1
    if pulled.demo_cleared:
        print(f"The demo organisation's invented {tool} figures were removed.")
    print(summary(run))
    for item in run.skipped[:10]:
        print(f"  skipped: {item['file']}, record {item['line']}: {item['reason']}")
    if run.skipped_count > 10:
        print(f"  … and {run.skipped_count - 10:,} more")
    return 0


def _guardrails(_args: argparse.Namespace) -> int:
    """`coe-bot usage guardrails`: each crossing this month, a line each; the CoE channel
    is told (once per team, threshold and month) by the running server's outbox."""
    from bot.jobs.guardrails import tell
    from bot.services import costs, guardrails
    from bot.services.channels import Places

    settings = _settings()
    try:
        prices = costs.for_settings(settings)
    except costs.CostsError as error:
        for issue in error.issues:
            print(f"coe-bot: {issue}", file=sys.stderr)
        return 1
    if prices is None:
        print(
            "coe-bot: no costs file: set COSTS_FILE (see bot/costs/example.yaml)", file=sys.stderr
        )
        return EXIT_USAGE
    places = Places(
        community=settings.community_channel,
        coe=settings.coe_channel,
        admins=tuple(sorted(settings.admin_user_ids)),
    )
    now = _now()

    async def work(sessions: db.Sessions) -> tuple[list[guardrails.Crossing], list[str]]:
        async with sessions.begin() as session:
            found = await guardrails.crossings(
                session=session, costs=prices, rules=settings.survey_rules(), day=now.date()
            )
            if places.for_coe():
                await tell(session=session, places=places, found=found, now=now)
            return found, await guardrails.unknown_teams(session=session, costs=prices)

    found, unknown = _run(settings, work)
    for name in unknown:
        print(
            f"coe-bot: {prices.source}: team_guardrails names “{name}”, which is no team"
            " (`coe-bot teams import`): its thresholds apply to nobody",
            file=sys.stderr,
        )
    if not found:
        print(f"No team crossed a soft guardrail in {now:%Y-%m} so far ({prices.source}).")
        return 0
    for crossing in found:
        note = f" · note: {crossing.note}" if crossing.note else ""
        print(f"{crossing.team}: {guardrails.describe(crossing)}{note}")
    return 0


def _progress_bar() -> Callable[[int, int, str], None] | None:
    """A one-line bar on a terminal (redrawn in place); nothing when output is a file."""
    if not sys.stderr.isatty():
        return None

    def draw(done: int, total: int, what: str) -> None:
        width = 30
        filled = width * done // max(total, 1)
        end = "\n" if what == "done" else ""
        bar = "#" * filled + "-" * (width - filled)
        print(f"\r[{bar}] {done}/{total} {what:<32}", end=end, file=sys.stderr, flush=True)

    return draw


def _demo(args: argparse.Namespace) -> int:
    from bot.errors import BadInput
    from bot.usage import demo, sources

    settings = _settings()
    if not sources.uses_standin(settings):
        print(
            "coe-bot: the demo fills the GitHub stand-in, which is used only without Slack and"
            " GitHub credentials; this coe-bot is set up for a real workspace",
            file=sys.stderr,
        )
        return EXIT_USAGE
    if not 10 <= args.people <= 20_000:
        print(f"coe-bot: --people {args.people}: it takes 10 to 20,000", file=sys.stderr)
        return EXIT_USAGE
    if not 14 <= args.days <= 365:
        print(f"coe-bot: --days {args.days}: it takes 14 to 365", file=sys.stderr)
        return EXIT_USAGE
    spec = sources.DemoSpec(
        people=args.people, days=args.days, seed=args.seed, end_day=_now().date()
    )
    try:
        made = _run(
            settings, lambda sessions: demo.install(sessions=sessions, spec=spec, now=_now())
        )
    except BadInput as refused:
        print(f"coe-bot: {refused}", file=sys.stderr)
        return EXIT_USAGE
    print(
        f"Demo organisation: {plural(made.people, 'person', 'people')} in"
        f" {plural(made.teams, 'team')}, {plural(made.seats, 'Copilot seat')},"
        f" {args.days} days of use. They are in the people directory and the team roster;"
        " their GitHub logins match through their e-mails.\n"
        "Next: coe-bot usage pull   (then /ai-coe usage in Slack, or GET /api/v1/usage)"
    )
    return 0


def _people_import(args: argparse.Namespace) -> int:
    from bot.errors import BadInput
    from bot.services import identities

    try:
        rows, problems = identities.read_csv(Path(args.file).read_text(encoding="utf-8-sig"))
    except OSError as error:
        print(f"coe-bot: cannot read {args.file}: {error.strerror}", file=sys.stderr)
        return 1
    except UnicodeDecodeError:
        print(f"coe-bot: {args.file} is not UTF-8 text: save it as CSV UTF-8", file=sys.stderr)
        return 1
    except BadInput as error:
        print(f"{args.file}:1: {error}", file=sys.stderr)
        return 1
    for problem in problems:
        print(f"{args.file}: {problem}")
    settings = _settings()

    async def work(sessions: db.Sessions) -> identities.ImportReport:
        async with sessions.begin() as session:
            return await identities.import_rows(
                session=session, rows=rows, now=_now(), actor="cli", source_file=args.file
            )

    report = _run(settings, work)
    for line in report.problems + report.warnings:
        print(f"{args.file}: {line}")
    refused = len(problems) + len(report.problems)
    print(
        f"{plural(report.added, 'login')} added, {report.updated:,} updated,"
        f" {report.unchanged:,} unchanged"
        + (f"; {plural(refused, 'line')} with a problem (above) skipped" if refused else "")
    )
    for login in report.reassigned:
        print(f"{args.file}: {login} now names a different person than before")
    return 1 if refused else 0


def _people_unmatched(_args: argparse.Namespace) -> int:
    from bot.services import identities

    settings = _settings()

    async def work(sessions: db.Sessions) -> tuple[list[identities.Unmatched], bool]:
        from bot.usage import copilot

        async with sessions() as session:
            return (
                await identities.unmatched(session=session),
                await copilot.done_before(session=session, source=copilot.SOURCE),
            )

    found, pulled = _run(settings, work)
    if not pulled:
        print("Nothing pulled yet: run coe-bot usage pull first.")
        return 0
    if not found:
        print("Every GitHub login Copilot reports matches a Slack user.")
        return 0
    print("github_login,reason,has_seat,last_reported_day")
    for item in found:
        print(f"{item.login},{item.reason},{'yes' if item.seat else 'no'},{item.last_day or ''}")
    print(
        f"{plural(len(found), 'login')} unmatched: add them to a people CSV"
        " (slack_user_id,email,github_login) and run coe-bot people import",
        file=sys.stderr,
    )
    return 0
