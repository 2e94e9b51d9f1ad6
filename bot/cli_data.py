"""Command-line verbs for data: prompt libraries, teams, surveys and exports."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from bot import db
from bot.config import Settings, load_settings
from bot.logs import configure_logging
from bot.views.common import plural

EXIT_USAGE = 2


FORMATS = ["csv", "json", "ndjson"]
FORMAT_HELP = "csv; json (one array, streamed); ndjson (one object per line)"
SINGULAR = {
    "lookups": "lookup",
    "questions": "question",
    "prompts": "prompt",
    "audit": "audit event",
}


def add_parsers(verbs: Any) -> None:
    lib = verbs.add_parser("prompts", help="prompt library import and export")
    lib_verbs = lib.add_subparsers(dest="prompts_verb", required=True)
    imp = lib_verbs.add_parser("import", help="add prompts from a YAML file (or --starter)")
    imp.add_argument("file", nargs="?", help="YAML list of prompts")
    imp.add_argument("--starter", action="store_true", help="import the shipped starter set")
    imp.add_argument("--author", help="Slack user ID for entries without `author`")
    imp.set_defaults(run=_prompts_import)
    exp = lib_verbs.add_parser("export", help="write the library as YAML")
    exp.add_argument("--output", "-o", help="file to write (default: standard output)")
    exp.set_defaults(run=_prompts_export)

    tm = verbs.add_parser("teams", help="teams and champions")
    tm_verbs = tm.add_subparsers(dest="teams_verb", required=True)
    tm_import = tm_verbs.add_parser(
        "import", help="CSV with header user_id,team,is_champion,topics (topics split by ;)"
    )
    tm_import.add_argument("file")
    tm_import.add_argument(
        "--replace",
        action="store_true",
        help="the file is the whole roster: people not in it leave their team and champions"
        " not in it stop being champions (refused, changing nothing, if a line has a problem)",
    )
    tm_import.set_defaults(run=_teams_import)
    tm_template = tm_verbs.add_parser(
        "template", help="print a sample roster CSV, every column explained, to edit"
    )
    tm_template.set_defaults(run=_teams_template)

    sv = verbs.add_parser("surveys", help="feedback surveys")
    sv_verbs = sv.add_subparsers(dest="surveys_verb", required=True)
    sv_load = sv_verbs.add_parser("load", help="validate and store survey definitions (YAML)")
    sv_load.add_argument("files", nargs="*", help="YAML files (default: the shipped templates)")
    sv_load.set_defaults(run=_surveys_load)
    sv_list = sv_verbs.add_parser("list", help="definitions and their runs")
    sv_list.set_defaults(run=_surveys_list)
    sv_send = sv_verbs.add_parser(
        "send", help="queue a run: the running coe-bot server starts and delivers it"
    )
    sv_send.add_argument("survey_id")
    sv_send.add_argument(
        "--to",
        help="who: all (the roster), a channel ID (C…), a user group ID (S…) or 'team NAME';"
        " default: the survey's own audience",
    )
    sv_send.add_argument("--yes", action="store_true", help="do not ask to confirm")
    sv_send.add_argument(
        "--url",
        default=f"http://127.0.0.1:{os.environ.get('PORT') or 3000}",
        help="the coe-bot server expected to start it (only checked, to say whether it will)",
    )
    sv_send.set_defaults(run=_surveys_send)
    sv_secret = sv_verbs.add_parser(
        "secret", help="the survey key: print the derived one for runs still open under it"
    )
    sv_secret.add_argument(
        "--show-derived",
        action="store_true",
        required=True,
        help="print the key derived from SLACK_SIGNING_SECRET, as a SURVEY_SECRET value",
    )
    sv_secret.set_defaults(run=_surveys_secret)

    ex = verbs.add_parser("export", help="export data for the CoE")
    ex_verbs = ex.add_subparsers(dest="export_verb", required=True)
    ex_survey = ex_verbs.add_parser("survey", help="a survey's responses, anonymity kept")
    ex_survey.add_argument("survey_id")
    ex_survey.add_argument("--format", choices=FORMATS, default="csv", help=FORMAT_HELP)
    ex_survey.add_argument("--output", "-o", help="file to write (default: standard output)")
    ex_survey.set_defaults(run=_export_survey)
    for resource in ("lookups", "questions", "prompts", "audit"):
        sub = ex_verbs.add_parser(resource, help=f"all {resource}, streamed")
        sub.add_argument("--format", choices=FORMATS, default="csv", help=FORMAT_HELP)
        sub.add_argument("--since", type=_date, help="from this date (YYYY-MM-DD)")
        if resource == "questions":
            sub.add_argument(
                "--status", choices=["open", "claimed", "answered", "resolved", "closed"]
            )
            sub.add_argument("--champion", help="only questions this champion (user ID) was given")
        sub.add_argument("--output", "-o", help="file to write (default: standard output)")
        sub.set_defaults(run=_export_resource, resource=resource)


def _settings() -> Settings:
    settings = load_settings()
    configure_logging(settings.log_level, settings.log_format)
    return settings


def _prompts_import(args: argparse.Namespace) -> int:
    from bot.services import prompt_io

    if bool(args.file) == bool(args.starter):
        print("coe-bot: give either a FILE or --starter", file=sys.stderr)
        return EXIT_USAGE
    path = Path(args.file) if args.file else prompt_io.starter_library_path()
    try:
        entries = prompt_io.read_entries(path)
    except prompt_io.ImportFileError as error:
        for problem in error.problems:
            print(problem)
        return 1
    except OSError as error:
        print(f"coe-bot: cannot read {path}: {error.strerror}", file=sys.stderr)
        return 1
    settings = _settings()
    db.prepare(settings.database_url)
    author = args.author or next(iter(sorted(settings.admin_user_ids)), None)
    report = asyncio.run(_import(settings, entries, author))
    for title in report.added:
        print(f"added: {title}")
    for reason in report.skipped:
        print(f"skipped {reason}")
    print(f"{len(report.added)} added, {len(report.skipped)} skipped from {path}")
    return 0


async def _import(settings: Settings, entries: list[Any], author: str | None) -> Any:
    from bot.models import utcnow
    from bot.services import prompt_io, prompt_safety

    if author:
        entries = [
            (line, e.model_copy(update={"author": e.author or author})) for line, e in entries
        ]
    engine = db.create_engine(settings.database_url)
    try:
        async with db.make_sessions(engine).begin() as session:
            return await prompt_io.import_entries(
                session=session,
                entries=entries,
                scan=prompt_safety.scan,
                actor="cli",
                now=utcnow(),
            )
    finally:
        await engine.dispose()


def _prompts_export(args: argparse.Namespace) -> int:
    from bot.services import prompt_io

    settings = _settings()
    db.prepare(settings.database_url)

    async def export() -> str:
        engine = db.create_engine(settings.database_url)
        try:
            async with db.make_sessions(engine)() as session:
                return prompt_io.dump_yaml(await prompt_io.export_entries(session=session))
        finally:
            await engine.dispose()

    text = asyncio.run(export())
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
        print(f"wrote {plural(text.count('- title:'), 'prompt')} to {args.output}", file=sys.stderr)
    else:
        print(text, end="")
    return 0


def _teams_template(_: argparse.Namespace) -> int:
    """A roster to start from, on standard output (what each column means on standard
    error): the stand-in's people, so it imports as is with `make run`."""
    from bot.services.policy_pack import PackError, load_pack

    try:
        tiers = [t.id for t in load_pack(load_settings().policy_pack).pack.tiers]
    except PackError:
        tiers = []
    first, last = (tiers[0], tiers[-1]) if tiers else ("", "")
    rows = [
        "user_id,team,is_champion,topics,tier,owner",
        f"U0BOB,payments,true,python;testing,{last},U0CAROL",
        f"U0CAROL,payments,true,security;code review,{last},U0CAROL",
        f"U0ALICE,payments,false,,{last},U0CAROL",
        f"U0DAVE,search,true,python;claude code,{first},U0DAVE",
        f"U0ERIN,search,false,,{first},U0DAVE",
    ]
    print("\n".join(rows))
    print(
        "Columns (the CSV above is on standard output, this help on standard error):\n"
        "  user_id      a Slack member ID (profile, then ⋮, then Copy member ID)\n"
        "  team         a team name\n"
        "  is_champion  true or false\n"
        "  topics       phrases separated by ; (code review;python)\n"
        f"  tier         optional: the team's default policy tier, one of {', '.join(tiers)}\n"
        "  owner        optional: the Slack member ID of who answers for the team's AI-tool\n"
        "               spend (named when it crosses a soft guardrail); one per team\n"
        "Edit it, then: coe-bot teams import teams.csv",
        file=sys.stderr,
    )
    return 0


def _teams_import(args: argparse.Namespace) -> int:
    from bot.errors import BadInput
    from bot.services import teams

    try:
        rows = teams.read_csv(Path(args.file).read_text(encoding="utf-8-sig"))
    except OSError as error:
        print(f"coe-bot: cannot read {args.file}: {error.strerror}", file=sys.stderr)
        return 1
    except UnicodeDecodeError as error:
        print(
            f"coe-bot: {args.file} is not UTF-8 text (byte {error.start + 1}): save it as"
            " CSV UTF-8 and import again; nothing was imported",
            file=sys.stderr,
        )
        return 1
    except BadInput as error:
        print(f"{args.file}:1: {error}", file=sys.stderr)
        return 1
    settings = _settings()
    db.prepare(settings.database_url)
    from bot.services.policy_pack import PackError, load_pack

    try:
        known_tiers = [t.id for t in load_pack(settings.policy_pack).pack.tiers]
    except PackError as error:
        print(f"coe-bot: the policy pack does not load, so tiers cannot be checked:\n{error}")
        return 1

    async def work() -> teams.ImportReport:
        from bot.models import utcnow

        engine = db.create_engine(settings.database_url)
        try:
            async with db.make_sessions(engine).begin() as session:
                return await teams.import_rows(
                    session=session,
                    rows=rows,
                    actor="cli",
                    now=utcnow(),
                    known_tiers=known_tiers,
                    replace=args.replace,
                )
        finally:
            await engine.dispose()

    try:
        report = asyncio.run(work())
    except teams.RosterRefused as refused:
        for problem in refused.report.problems:
            print(f"{args.file}: {problem}")
        print(
            f"coe-bot: --replace: {plural(len(refused.report.problems), 'line')} with a problem"
            " (above), so nothing was imported and nobody was removed; fix them and import"
            " again",
            file=sys.stderr,
        )
        return 1
    for problem in report.problems:
        print(f"{args.file}: {problem}")
    if report.problems:
        print(
            f"{plural(len(report.problems), 'line')} with a problem (above) changed nothing;"
            " the other rows were imported:"
        )
    for flagged in report.flagged:
        print(f"{args.file}: {flagged}")
    print(
        f"{plural(report.members, 'person', 'people')} mapped to teams, "
        f"{plural(report.champions, 'champion')}, "
        f"{plural(report.tiers, 'team')} given a default tier"
        + (
            f"; not in the file: {plural(report.removed, 'person', 'people')} taken out of"
            f" their team, {plural(report.retired, 'champion')} retired"
            if args.replace
            else ""
        )
        + (f"; {len(report.flagged)} flagged (see above)" if report.flagged else "")
        + (
            f"; {report.unknown} not yet in the people directory (the running app checks"
            " them with Slack)"
            if report.unknown
            else ""
        )
    )
    return 1 if report.problems else 0


def _surveys_load(args: argparse.Namespace) -> int:
    from bot.services import surveys
    from bot.services.survey_definitions import DefinitionError, load_definition, templates_dir

    paths = [Path(f) for f in args.files] or sorted(templates_dir().glob("*.yaml"))
    definitions = []
    failed = False
    for path in paths:
        try:
            definitions.append((path, load_definition(path)))
        except DefinitionError as error:
            failed = True
            for issue in error.issues:
                print(issue)
    if failed:
        print("nothing stored: fix the errors above", file=sys.stderr)
        return 1
    settings = _prepared_settings()

    async def store() -> list[str]:
        from bot.models import utcnow

        async with _session(settings) as session:
            saved = [
                await surveys.save_definition(
                    session=session, definition=d, source=str(p), actor="cli", now=utcnow()
                )
                for p, d in definitions
            ]
            return [f"{s.id} v{s.version}: {s.title}" for s in saved]

    for line in asyncio.run(store()):
        print(f"loaded {line}")
    for _, definition in definitions:
        if definition.audience is None:
            print(
                f"note: {definition.id} has no audience: choose it when sending, e.g. "
                f"/ai-coe survey send {definition.id} to all (or to #channel, to @user-group,"
                " to team <name>)"
            )
    return 0


def _surveys_list(_: argparse.Namespace) -> int:
    from bot.services import surveys
    from bot.views.surveys import waiting_note

    settings = _prepared_settings()

    async def listing() -> list[str]:
        lines = []
        async with _session(settings) as session:
            for survey in await surveys.list_surveys(session=session):
                runs = await surveys.runs_of(session=session, survey_id=survey.id)
                cron = (survey.definition.get("schedule") or {}).get("cron") or "-"
                lines.append(f"{survey.id}\tv{survey.version}\t{cron}\t{survey.title}")
                for r in runs:
                    went = await surveys.delivery(session=session, run=r)
                    lines.append(
                        f"  run #{r.id}\t{r.period}\t{r.status}\t{r.audience_size} asked: "
                        f"{went.reached} sent, {went.waiting} waiting{waiting_note(went)}, "
                        f"{went.not_reached} failed\tcloses {r.closes_at:%Y-%m-%d %H:%M} UTC"
                    )
        return lines

    print("\n".join(asyncio.run(listing())) or "no surveys loaded")
    return 0


def _surveys_send(args: argparse.Namespace) -> int:
    """Queue a run in the database (the database is the queue): the serving app, which can
    reach Slack, resolves the audience and delivers it within a minute."""
    from bot.errors import UserError
    from bot.services import surveys
    from bot.services.survey_definitions import audience_from

    settings = _prepared_settings()

    async def read() -> Any:
        async with _session(settings) as session:
            return await surveys.get_definition(session=session, survey_id=args.survey_id)

    try:
        definition = asyncio.run(read())
        if args.to:
            definition = definition.model_copy(update={"audience": audience_from(args.to.split())})
    except UserError as error:
        print(f"coe-bot: {error}", file=sys.stderr)
        return 1
    if definition.audience is None:
        print(
            f"coe-bot: {definition.id} has no audience: say who with --to (all, a channel ID,"
            " a user group ID, or 'team NAME'); nothing was sent",
            file=sys.stderr,
        )
        return 1
    try:
        who = asyncio.run(_counted(settings, definition.audience))
    except UserError as error:
        print(f"coe-bot: {error}", file=sys.stderr)
        return 1
    if not args.yes and sys.stdin.isatty():
        answer = input(f"Send “{definition.title}” to {who}? [y/N] ")
        if answer.strip().lower() not in {"y", "yes"}:
            print("nothing was sent")
            return 1

    async def queue() -> int:
        from bot.models import utcnow

        async with _session(settings) as session:
            run = await surveys.request_run(
                session=session, definition=definition, requested_by="cli", now=utcnow()
            )
            return run.id or 0

    run_id = asyncio.run(queue())
    print(f"run #{run_id} of {definition.id} queued for {who}")
    if _server_answers(args.url):
        print(
            f"the coe-bot server at {args.url} starts it within a minute; "
            "`coe-bot surveys list` shows its delivery"
        )
    else:
        print(
            f"no coe-bot server answers at {args.url}: the run waits in the database and "
            "starts when one runs (`make run`, or `coe-bot serve`)"
        )
    return 0


async def _counted(settings: Settings, audience: Any) -> str:
    """Who a send asks, with the count where the roster knows it: "40 people (everyone on
    the roster)"; a channel or user group is counted by the server, which asks Slack.
    Raises BadInput for an empty roster or an unknown team."""
    from bot.services import teams
    from bot.services.survey_definitions import describe

    who = describe(audience)
    if not audience.team:
        return f"{who} (the server counts them with Slack)"
    async with _session(settings) as session:
        people, groups = await teams.roster_of(session=session, name=audience.team)
    count = plural(len(people), "person", "people")
    if groups:
        return f"{count} and the members of {plural(len(groups), 'Slack user group')} ({who})"
    return f"{count} ({who})"


def _server_answers(url: str) -> bool:
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(f"{url.rstrip('/')}/healthz", timeout=2) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError, ValueError):
        return False


def _surveys_secret(_: argparse.Namespace) -> int:
    """Print the derived key once, so runs opened under it can still be answered after
    SURVEY_SECRET becomes required: set SURVEY_SECRET to the printed value."""
    from bot.config import secret_bytes
    from bot.models import SurveyRun, utcnow
    from bot.services import audit

    settings = _prepared_settings()
    if settings.slack_signing_secret is None:
        print("coe-bot: SLACK_SIGNING_SECRET is not set: no key was derived", file=sys.stderr)
        return 1
    derived = settings.derived_survey_key()
    current = settings.survey_secret
    if current is not None and secret_bytes(current.get_secret_value()) == derived:
        print("SURVEY_SECRET is already set to the derived key.", file=sys.stderr)
        return 0

    async def record() -> int:
        from sqlmodel import col, select

        async with _session(settings) as session:
            runs = (
                await session.exec(select(SurveyRun).where(col(SurveyRun.status) == "open"))
            ).all()
            await audit.record(
                session=session,
                actor="cli",
                action="survey.secret_shown",
                details={"open_runs": len(runs)},
                now=utcnow(),
            )
            return len(runs)

    open_runs = asyncio.run(record())
    print(f"SURVEY_SECRET=hex:{derived.hex()}")
    print(
        f"Set this as SURVEY_SECRET so the {plural(open_runs, 'open run')} keyed with it can "
        "still be answered; keep it in your secret store, not in .env. Showing it was audited.",
        file=sys.stderr,
    )
    return 0


def _export_survey(args: argparse.Namespace) -> int:
    from bot.errors import UserError
    from bot.services import audit, survey_export

    settings = _prepared_settings()

    async def export() -> int:
        from bot.models import utcnow

        count = 0

        async def counted(rows: AsyncIterator[dict[str, Any]]) -> AsyncIterator[dict[str, Any]]:
            nonlocal count
            async for row in rows:
                count += 1
                yield row

        async with _session(settings) as session:
            columns, released, notes = await survey_export.export_rows(
                session=session, survey_id=args.survey_id, rules=settings.survey_rules()
            )
            for note in notes:
                print(f"coe-bot: {note}", file=sys.stderr)
            rows = counted(released)
            chunks = (
                survey_export.to_csv(columns, rows)
                if args.format == "csv"
                else survey_export.to_json_lines(rows)
                if args.format == "ndjson"
                else _json_array(survey_export.to_json_lines(rows))
            )
            async for chunk in chunks:
                out.write(chunk)
            await audit.record(
                session=session,
                actor="cli",
                action="export.survey",
                subject=args.survey_id,
                details={"format": args.format},
                now=utcnow(),
            )
        return count

    out = open(args.output, "w", encoding="utf-8", newline="") if args.output else sys.stdout  # noqa: SIM115
    try:
        lines = asyncio.run(export())
    except UserError as error:
        print(f"coe-bot: {error}", file=sys.stderr)
        return 1
    finally:
        if args.output:
            out.close()
    if args.output:
        print(
            f"wrote {plural(lines, 'response')} to {args.output}"
            + (" (the header only)" if not lines and args.format == "csv" else ""),
            file=sys.stderr,
        )
    return 0


async def _json_array(lines: AsyncIterator[str]) -> AsyncIterator[str]:
    """One JSON array, streamed, from chunks of JSON lines (memory stays flat)."""
    first = True
    yield "["
    async for chunk in lines:
        for line in chunk.splitlines():
            if line:
                yield ("\n" if first else ",\n") + line
                first = False
    yield "\n]\n" if not first else "]\n"


def _date(raw: str) -> Any:
    try:
        day = dt.date.fromisoformat(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{raw!r} is not a date like 2026-11-30") from None
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)


def _export_resource(args: argparse.Namespace) -> int:
    """Page through the resource by id and write as we go, so memory stays flat; a
    progress count goes to a terminal's standard error."""
    import json

    from bot import csvsafe
    from bot.api import json_default
    from bot.services import audit, review

    readers = {
        "lookups": review.lookups,
        "questions": review.questions,
        "prompts": review.prompts,
        "audit": review.audit_log,
    }
    settings = _prepared_settings()
    show_progress = sys.stderr.isatty()

    async def export(out: Any) -> int:
        from bot.models import utcnow

        engine = db.create_engine(settings.database_url)
        written, after, writer = 0, 0, None
        try:
            sessions = db.make_sessions(engine)
            async with sessions() as session:
                total = await review.count(
                    session=session, resource=args.resource, since=args.since
                )
            while True:
                async with sessions() as session:
                    rows = await readers[args.resource](
                        session=session,
                        window=review.Window(
                            after=after,
                            limit=5000,
                            since=args.since,
                            status=getattr(args, "status", None),
                            champion=getattr(args, "champion", None),
                        ),
                    )
                rows = rows[:5000]
                if not rows:
                    break
                for row in rows:
                    if args.format == "json":
                        out.write(
                            ("[\n" if not written else ",\n")
                            + json.dumps(row, default=json_default)
                        )
                        written += 1
                    elif args.format == "ndjson":
                        out.write(json.dumps(row, default=json_default) + "\n")
                        written += 1
                    else:
                        if writer is None:
                            writer = csvsafe.DictWriter(out, fieldnames=list(row))
                            writer.writeheader()
                        writer.writerow({k: _flat(v) for k, v in row.items()})
                        written += 1
                after = int(rows[-1]["id"])
                if show_progress:
                    print(f"\r{_bar(written, total)} {args.resource}", end="", file=sys.stderr)
            async with sessions.begin() as session:
                await audit.record(
                    session=session,
                    actor="cli",
                    action=f"export.{args.resource}",
                    details={"format": args.format, "rows": written},
                    now=utcnow(),
                )
        finally:
            await engine.dispose()
        if args.format == "json":
            out.write("\n]\n" if written else "[]\n")
        if show_progress:
            print(file=sys.stderr)
        return written

    out = open(args.output, "w", encoding="utf-8", newline="") if args.output else sys.stdout  # noqa: SIM115
    try:
        count = asyncio.run(export(out))
    finally:
        if args.output:
            out.close()
    if args.output:
        print(f"wrote {plural(count, SINGULAR[args.resource])} to {args.output}", file=sys.stderr)
    return 0


def _bar(done: int, total: int, width: int = 30) -> str:
    share = done / total if total else 1.0
    filled = round(width * min(share, 1.0))
    return f"[{'#' * filled}{'-' * (width - filled)}] {share:4.0%} {done:,}/{total:,}"


def _flat(value: Any) -> Any:
    """A CSV cell: nested values as JSON, moments as ISO 8601, like the JSON formats."""
    import json

    from bot.api import json_default

    if isinstance(value, dict | list):
        return json.dumps(value, default=json_default)
    return json_default(value) if isinstance(value, dt.datetime | dt.date) else value


def _prepared_settings() -> Settings:
    settings = _settings()
    db.prepare(settings.database_url)
    return settings


@contextlib.asynccontextmanager
async def _session(settings: Settings) -> AsyncIterator[Any]:
    """One transaction on a short-lived engine, for command-line work."""
    engine = db.create_engine(settings.database_url)
    try:
        async with db.make_sessions(engine).begin() as session:
            yield session
    finally:
        await engine.dispose()
