"""The `coe-bot` command line: run the Slack app, manage its database and data, and try
slash commands without Slack."""

from __future__ import annotations

import argparse
import asyncio
import errno
import gc
import logging
import os
import secrets
import socket
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from aiohttp import web
from pydantic import SecretStr

from bot import cli_data, cli_report, cli_usage, db
from bot.config import ConfigError, Settings, load_settings
from bot.logs import configure_logging
from bot.services.policy_pack import PackError, load_pack
from bot.views.common import plural

logger = logging.getLogger(__name__)

EXIT_USAGE = 2


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        result: int = args.run(args)
    except ConfigError as error:
        print(f"coe-bot: configuration error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except PackError as error:
        print("coe-bot: the policy pack is invalid:", file=sys.stderr)
        for issue in error.issues:
            print(f"  {issue}", file=sys.stderr)
        return EXIT_USAGE
    except db.SchemaError as error:
        print(f"coe-bot: {error}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `coe-bot export … | head`: the reader has what it wanted
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141
    return result


class _Help(argparse.RawDescriptionHelpFormatter, argparse.ArgumentDefaultsHelpFormatter):
    """Descriptions as written; an option's default shown when it has one worth saying."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        if action.default in (None, False) or action.default is argparse.SUPPRESS:
            return action.help
        return super()._get_help_string(action)


class _Parser(argparse.ArgumentParser):
    """Every `coe-bot` parser, and its subcommands' (argparse makes them of this class)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", _Help)
        super().__init__(*args, **kwargs)


_EPILOG = """examples:
  coe-bot serve                      run against Slack (or the local stand-in)
  coe-bot teams template > teams.csv then edit it, and: coe-bot teams import teams.csv
  coe-bot try "/ai-policy can I use copilot on payment code"
  coe-bot surveys load && coe-bot surveys list
  coe-bot export questions --format csv -o questions.csv
Each verb has its own --help."""


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="coe-bot",
        description=__doc__,
        epilog=_EPILOG,
    )
    verbs = parser.add_subparsers(dest="verb", required=True)

    serve = verbs.add_parser("serve", help="run the Slack app (HTTP or Socket Mode)")
    serve.add_argument("--host", default="0.0.0.0", help="address to listen on")
    serve.add_argument(
        "--port", type=int, default=_env_port(), help="HTTP port (environment: PORT)"
    )
    serve.add_argument("--socket-mode", action="store_true", help="connect over Socket Mode")
    serve.add_argument(
        "--migrate",
        action="store_true",
        help="apply database migrations first (one replica at a time; SQLite always is)",
    )
    serve.set_defaults(run=_serve)

    migrate = verbs.add_parser("migrate", help="apply database migrations (alembic upgrade head)")
    migrate.set_defaults(run=_migrate)

    pol = verbs.add_parser("policy", help="policy pack tools")
    pol_verbs = pol.add_subparsers(dest="policy_verb", required=True)
    validate = pol_verbs.add_parser("validate", help="check a policy pack file")
    validate.add_argument("file")
    validate.set_defaults(run=_policy_validate)

    cli_data.add_parsers(verbs)
    cli_usage.add_parsers(verbs)
    cli_report.add_parsers(verbs)

    try_ = verbs.add_parser(
        "try",
        help='send a slash command as Slack would: coe-bot try "/ai-policy …" (to the running'
        " server's stand-in, else in this process)",
    )
    try_.add_argument(
        "command_line", nargs="?", help='the command and its text, e.g. "/ai-policy secrets"'
    )
    try_.add_argument(
        "--users", action="store_true", help="list the stand-in's people, channels and groups"
    )
    try_.add_argument("--user", default="U0ALICE", help="Slack user ID to run as")
    try_.add_argument("--channel", default="C0GENERAL", help="channel ID to run in")
    try_.add_argument(
        "--html", metavar="FILE", help="also write a Slack-like HTML preview of the replies"
    )
    try_.add_argument(
        "--url",
        help="the coe-bot server to send it to, running the Slack stand-in (default: the one"
        " make run starts, http://127.0.0.1:$PORT, when it answers; else this process)",
    )
    try_.add_argument(
        "--local", action="store_true", help="run it in this process even when a server answers"
    )
    try_.add_argument(
        "--wait",
        type=float,
        default=4.0,
        metavar="SECONDS",
        help="on a server, how long to show what the bot sends after its reply",
    )
    try_.set_defaults(run=_try)
    return parser


def _env_port() -> int:
    raw = os.environ.get("PORT", "")
    return int(raw) if raw.isdigit() and 0 < int(raw) < 65536 else 3000


def _port_free(host: str, port: int) -> bool:
    try:
        with socket.create_server((host, port), reuse_port=False):
            return True
    except OSError as error:
        return error.errno != errno.EADDRINUSE


def _port_in_use(host: str, port: int) -> int:
    print(
        f"coe-bot: port {port} on {host} is in use (another coe-bot, or another program): stop"
        " it, or choose another port with --port or PORT (`PORT=3001 make run`)",
        file=sys.stderr,
    )
    return 1


def _settings() -> Settings:
    settings = load_settings()
    configure_logging(settings.log_level, settings.log_format)
    return settings


def _migrate(_: argparse.Namespace) -> int:
    settings = _settings()
    db.migrate(settings.database_url)
    print(f"Database at {db.safe_url(settings.database_url)} is at revision {db.head_revision()}.")
    return 0


def _policy_validate(args: argparse.Namespace) -> int:
    try:
        loaded = load_pack(args.file)
    except PackError as error:
        for issue in error.issues:
            print(issue)
        print(f"{plural(len(error.issues), 'error')} in {args.file}", file=sys.stderr)
        return 1
    meta = loaded.pack.metadata
    print(
        f"{args.file}: OK — {meta.name} version {meta.version}: "
        f"{len(loaded.pack.categories)} categories, {len(loaded.pack.tiers)} tiers, "
        f"{len(loaded.pack.tools)} tools, {len(loaded.pack.rules)} rules "
        f"(sha256 {loaded.sha256[:12]})"
    )
    return 0


def _serve(args: argparse.Namespace) -> int:
    settings = _settings()
    if settings.slack_bot_token or settings.slack_signing_secret or args.socket_mode:
        settings.require_slack(socket_mode=args.socket_mode)  # half a set-up is refused
    if args.migrate:
        db.migrate(settings.database_url)
    db.prepare(settings.database_url)
    if not _port_free(args.host, args.port):  # before anything starts (a race is caught too)
        return _port_in_use(args.host, args.port)
    if not settings.has_slack_credentials and not args.socket_mode:
        return asyncio.run(_serve_with_standin(settings, args.host, args.port))
    from bot.app import create_app

    app = create_app(settings, socket_mode=args.socket_mode)
    app.on_startup.append(_settle_garbage_collector)
    base = f"http://{args.host}:{args.port}"
    print(
        f"coe-bot is serving on {base}: "
        + ("Slack over Socket Mode" if args.socket_mode else f"Slack events at {base}/slack/events")
        + f"; health {base}/healthz, readiness {base}/readyz, metrics {base}/metrics; CoE API "
        + (f"{base}/api/v1" if settings.coe_api_token else "off (set COE_API_TOKEN)"),
        flush=True,
    )
    try:
        web.run_app(app, host=args.host, port=args.port, print=None)
    except OSError as error:
        if error.errno == errno.EADDRINUSE:
            return _port_in_use(args.host, args.port)
        raise
    return 0


async def _serve_with_standin(settings: Settings, host: str, port: int) -> int:
    """No Slack credentials: run against the local stand-in, and say how to go further."""
    from bot.app import create_app
    from bot.services import costs
    from bot.standin import FakeSlack, console
    from bot.survey_secret import with_local_secret

    async with FakeSlack(open_directory=True) as slack:
        secret = secrets.token_hex(16)
        local = with_local_secret(settings).model_copy(
            update={
                "slack_api_url": slack.api_url,
                "slack_bot_token": SecretStr(slack.bot_token),
                "slack_signing_secret": SecretStr(secret),
                # the stand-in's credentials are not the CoE's: prices stay the example's
                "costs_file": settings.costs_file or costs.example_path(),
                # the report's signed links name this server
                "public_url": settings.public_url or f"http://127.0.0.1:{port}",
            }
        )
        app = create_app(local)
        app.on_startup.append(_settle_garbage_collector)
        reach = "127.0.0.1" if host in {"", "0.0.0.0", "::", "localhost"} else host
        console.attach(app, slack, f"http://{reach}:{port}/slack/events", secret)
        runner = web.AppRunner(app)
        await runner.setup()
        try:
            await web.TCPSite(runner, host, port).start()
        except OSError as error:
            await runner.cleanup()
            if error.errno == errno.EADDRINUSE:
                return _port_in_use(host, port)
            raise
        api = (
            f"curl -H 'Authorization: Bearer …' http://127.0.0.1:{port}/api/v1/openapi.json"
            if settings.coe_api_token
            else "off (set COE_API_TOKEN to turn on /api/v1)"
        )
        admins = ", ".join(settings.coe_admins) or "none (set COE_ADMINS=U0ADMIN to try /ai-coe)"
        print(
            _STANDIN_BANNER.format(
                port=port, api=slack.api_url, coe_api=api, admins=admins, pack=_pack_name(app)
            ),
            flush=True,
        )
        try:
            await asyncio.Event().wait()
        finally:
            await runner.cleanup()
    return 0


def _pack_name(app: web.Application) -> str:
    from bot.app import DEPS

    active = app[DEPS].policy.active
    meta = active.loaded.pack.metadata
    return f"{meta.name} {meta.version} ({active.loaded.source})"


async def _settle_garbage_collector(_: web.Application) -> None:
    """Freeze what start-up built (the policy index, the app) out of the collector's way and
    collect young objects less often: full collections were the whole p99 tail under load
    (see docs/benchmarks.md)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(10_000, 20, 20)


_STANDIN_BANNER = """\
coe-bot is running on http://127.0.0.1:{port} against the local Slack stand-in ({api}):
no Slack credentials are configured. Policy pack: {pack}.

  Try a command (in another terminal):
    .venv/bin/coe-bot try "/ai-policy can I use copilot on payment code in a regulated service"
    .venv/bin/coe-bot try "/ai-policy"
  try sends it here, as Slack would, and shows what the bot sends afterwards.
  Health:  curl http://127.0.0.1:{port}/healthz   Metrics: curl http://127.0.0.1:{port}/metrics
  CoE API: {coe_api}
  CoE admins: {admins}

  Connect a real workspace: create a Slack app from manifest.yml (api.slack.com/apps →
  "From an app manifest"), install it, then put SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET
  in .env (see .env.example) and run `make run` again. Press Ctrl+C to stop."""


def _try(args: argparse.Namespace) -> int:
    if args.users:
        from bot.trial import directory

        print(asyncio.run(directory()), end="")
        return 0
    if not args.command_line:
        print('coe-bot: say what to try, e.g. coe-bot try "/ai-policy"', file=sys.stderr)
        return EXIT_USAGE
    from bot.trial import who_is

    try:
        args.user, args.channel = who_is(args.user, args.channel)
    except ValueError as problem:
        print(f"coe-bot: {problem}", file=sys.stderr)
        return EXIT_USAGE
    settings = load_settings()
    configure_logging("WARNING" if settings.log_level == "INFO" else settings.log_level, "text")
    db.prepare(settings.database_url)
    pages: list[str] | None = [] if args.html else None
    from bot.trial import COMMANDS

    if args.command_line.split(" ", 1)[0] not in COMMANDS:
        known = ", ".join(COMMANDS)
        print(
            f"coe-bot: {args.command_line.split(' ', 1)[0]!r} is not a coe-bot command; try"
            f" one of {known}",
            file=sys.stderr,
        )
        return EXIT_USAGE
    output = asyncio.run(_try_where(args, settings, pages))
    if output is None:
        return 1
    print(output, end="")
    if args.html and pages:
        try:
            Path(args.html).write_text(pages[0], encoding="utf-8")
        except OSError as error:
            print(f"coe-bot: cannot write {args.html}: {error.strerror}", file=sys.stderr)
            return 1
        print(f"(preview written to {args.html})")
    return 0


async def _try_where(
    args: argparse.Namespace, settings: Settings, pages: list[str] | None
) -> str | None:
    """Send the command to the server when one runs the stand-in (`--url`, else the local
    `make run`), else run it in this process; None after saying why neither can be done."""
    from bot.trial import NOT_STANDIN, ServerProblem, run_command, run_on_server, server_mode

    who = {"user_id": args.user, "channel_id": args.channel}
    url = args.url or f"http://127.0.0.1:{_env_port()}"
    mode = "none" if args.local else await server_mode(url)
    if mode == "standin":
        try:
            return await run_on_server(url, args.command_line, wait=args.wait, html=pages, **who)
        except ServerProblem as problem:
            print(f"coe-bot: {problem}", file=sys.stderr)
            return None
    if args.url:  # this server was asked for: say why it cannot be used
        why = NOT_STANDIN.format(url=url) if mode == "slack" else f"no server answers at {url}"
        print(f"coe-bot: {why}; start one with make run, or use --local", file=sys.stderr)
        return None
    if mode == "slack":
        print(
            f"coe-bot: the server at {url} is not running the Slack stand-in (it is connected"
            " to real Slack, or is not coe-bot), so this runs in this process instead",
            file=sys.stderr,
        )
    note = (
        ""
        if args.local or mode == "slack"
        else f"(no coe-bot server answers at {url}, so this ran in this process: what the bot"
        " sends afterwards, like a champion's DM, is not shown. Start make run to see it.)"
    )
    return await run_command(settings, args.command_line, html=pages, note=note, **who)


if __name__ == "__main__":
    sys.exit(main())
