"""`coe-bot report monthly` (the page, offline) and `coe-bot report link` (a signed link)."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
from pathlib import Path
from typing import Any

from bot import db
from bot.cli_usage import _now, _run, _settings

EXIT_USAGE = 2


def add_parsers(verbs: Any) -> None:
    report = verbs.add_parser("report", help="the monthly report leadership reads")
    report_verbs = report.add_subparsers(dest="report_verb", required=True)
    monthly = report_verbs.add_parser(
        "monthly", help="write the month's report as one HTML page (charts inline, offline)"
    )
    monthly.add_argument("--month", help="YYYY-MM (default: last month)")
    monthly.add_argument("-o", "--output", default="-", help="file to write (default: stdout)")
    monthly.set_defaults(run=_monthly)
    link = report_verbs.add_parser(
        "link", help="a signed link to a month's report on this server (audited)"
    )
    link.add_argument("--month", help="YYYY-MM (default: last month)")
    link.add_argument("--days", type=int, default=14, help="days the link works (1 to 90)")
    link.epilog = "The link names PUBLIC_URL, else this machine on $PORT (3000): `make run`."
    link.set_defaults(run=_link)


def _month(text: str | None, today: dt.date) -> dt.date | None:
    """The month asked for (last month by default); None after saying why it is not one."""
    from bot.reports.monthly import BadMonth, parse_month, previous_month

    try:
        return parse_month(text, today=today) if text is not None else previous_month(today)
    except BadMonth as error:
        print(f"coe-bot: --month: {error}", file=sys.stderr)
        return None


def _monthly(args: argparse.Namespace) -> int:
    from bot.reports import page
    from bot.services.policy import PolicyStore

    settings = _settings()
    now = _now()
    month = _month(args.month, now.date())
    if month is None:
        return EXIT_USAGE
    policy = PolicyStore(settings.policy_pack).active

    async def work(sessions: db.Sessions) -> str:
        report = await page.build(
            sessions=sessions, settings=settings, policy=policy, month=month, now=now
        )
        return await page.html(report)

    html = _run(settings, work)
    if args.output == "-":
        sys.stdout.write(html)
        return 0
    try:
        Path(args.output).write_text(html, encoding="utf-8")
    except OSError as error:
        print(f"coe-bot: -o {args.output}: {error.strerror or error}", file=sys.stderr)
        return 1
    print(f"Wrote the report for {month:%B %Y} to {args.output} ({len(html):,} bytes).")
    return 0


def _link(args: argparse.Namespace) -> int:
    from bot.config import secret_bytes
    from bot.reports import links
    from bot.survey_secret import with_local_secret

    settings = _settings()
    if not settings.has_slack_credentials:
        settings = with_local_secret(settings)  # what `make run`'s server signs with
    now = _now()
    month = _month(args.month, now.date())
    if month is None:
        return EXIT_USAGE
    if not 1 <= args.days <= links.MAX_DAYS:
        print(f"coe-bot: --days: a link lasts 1 to {links.MAX_DAYS} days", file=sys.stderr)
        return EXIT_USAGE
    if settings.report_link_secret is None:
        print("coe-bot: set REPORT_LINK_SECRET (32 bytes or more) to sign links", file=sys.stderr)
        return EXIT_USAGE
    base = settings.public_url or f"http://127.0.0.1:{os.environ.get('PORT') or 3000}"
    secret = secret_bytes(settings.report_link_secret.get_secret_value())

    async def work(sessions: db.Sessions) -> links.Link:
        async with sessions.begin() as session:
            return await links.issue(
                session=session,
                secret=secret,
                base_url=base,
                month=f"{month:%Y-%m}",
                now=now,
                actor="cli",
                days=args.days,
                purpose="cli",
            )

    made = _run(settings, work)
    print(made.url)
    if settings.public_url is None:
        print("(PUBLIC_URL is unset: the link names this machine)", file=sys.stderr)
    return 0
