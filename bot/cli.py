"""The `coe-bot` command line: serve, migrate, policy validate, try."""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import secrets
import sys
from collections.abc import Sequence
from pathlib import Path

from aiohttp import web
from pydantic import SecretStr

from bot import cli_data, db
from bot.config import ConfigError, Settings, load_settings
from bot.logs import configure_logging
from bot.services.policy_pack import PackError, load_pack

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
    except KeyboardInterrupt:
        return 130
    return result


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="coe-bot", description=__doc__)
    verbs = parser.add_subparsers(dest="verb", required=True)

    serve = verbs.add_parser("serve", help="run the Slack app (HTTP or Socket Mode)")
    serve.add_argument("--host", default="0.0.0.0")
    serve.add_argument("--port", type=int, default=3000)
    serve.add_argument("--socket-mode", action="store_true", help="connect over Socket Mode")
    serve.set_defaults(run=_serve)

    migrate = verbs.add_parser("migrate", help="apply database migrations (alembic upgrade head)")
    migrate.set_defaults(run=_migrate)

    pol = verbs.add_parser("policy", help="policy pack tools")
    pol_verbs = pol.add_subparsers(dest="policy_verb", required=True)
    validate = pol_verbs.add_parser("validate", help="check a policy pack file")
    validate.add_argument("file")
    validate.set_defaults(run=_policy_validate)

    cli_data.add_parsers(verbs)

    try_ = verbs.add_parser("try", help='run a slash command locally: coe-bot try "/ai-policy …"')
    try_.add_argument("command_line", help='the command and its text, e.g. "/ai-policy secrets"')
    try_.add_argument("--user", default="U0ALICE", help="Slack user ID to run as")
    try_.add_argument("--channel", default="C0GENERAL", help="channel ID to run in")
    try_.add_argument(
        "--html", metavar="FILE", help="also write a Slack-like HTML preview of the replies"
    )
    try_.set_defaults(run=_try)
    return parser


def _settings() -> Settings:
    settings = load_settings()
    configure_logging(settings.log_level, settings.log_format)
    return settings


def _migrate(_: argparse.Namespace) -> int:
    settings = _settings()
    db.migrate(settings.database_url)
    print(f"Database at {_safe_url(settings.database_url)} is at revision {db.head_revision()}.")
    return 0


def _policy_validate(args: argparse.Namespace) -> int:
    try:
        loaded = load_pack(args.file)
    except PackError as error:
        for issue in error.issues:
            print(issue)
        print(f"{len(error.issues)} error(s) in {args.file}", file=sys.stderr)
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
    if settings.has_slack_credentials or args.socket_mode:
        settings.require_slack(socket_mode=args.socket_mode)
    if settings.is_default_database:
        db.migrate(settings.database_url)
    if not settings.has_slack_credentials and not args.socket_mode:
        return asyncio.run(_serve_with_standin(settings, args.host, args.port))
    from bot.app import create_app

    app = create_app(settings, socket_mode=args.socket_mode)
    app.on_startup.append(_settle_garbage_collector)
    web.run_app(app, host=args.host, port=args.port, print=None)
    return 0


async def _serve_with_standin(settings: Settings, host: str, port: int) -> int:
    """No Slack credentials: run against the local stand-in, and say how to go further."""
    from bot.app import create_app
    from bot.standin import FakeSlack
    from bot.survey_secret import with_local_secret

    async with FakeSlack(open_directory=True) as slack:
        secret = secrets.token_hex(16)
        local = with_local_secret(settings).model_copy(
            update={
                "slack_api_url": slack.api_url,
                "slack_bot_token": SecretStr(slack.bot_token),
                "slack_signing_secret": SecretStr(secret),
            }
        )
        app = create_app(local)
        app.on_startup.append(_settle_garbage_collector)
        runner = web.AppRunner(app)
        await runner.setup()
        await web.TCPSite(runner, host, port).start()
        print(_STANDIN_BANNER.format(port=port, api=slack.api_url), flush=True)
        try:
            await asyncio.Event().wait()
        finally:
            await runner.cleanup()
    return 0


async def _settle_garbage_collector(_: web.Application) -> None:
    """Freeze what start-up built (the policy index, the app) out of the collector's way and
    collect young objects less often: full collections were the whole p99 tail under load
    (see docs/benchmarks.md)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(10_000, 20, 20)


_STANDIN_BANNER = """\
coe-bot is running on http://127.0.0.1:{port} against the local Slack stand-in ({api}):
no Slack credentials are configured.

  Try a command (in another terminal):
    .venv/bin/coe-bot try "/ai-policy can I use copilot on payment code in a regulated service"
    .venv/bin/coe-bot try "/ai-policy"
  Health:  curl http://127.0.0.1:{port}/healthz   Metrics: curl http://127.0.0.1:{port}/metrics

  Connect a real workspace: create a Slack app from manifest.yml (api.slack.com/apps →
  "From an app manifest"), install it, then put SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET
  in .env (see .env.example) and run `make run` again. Press Ctrl+C to stop."""


def _try(args: argparse.Namespace) -> int:
    settings = load_settings()
    configure_logging("WARNING" if settings.log_level == "INFO" else settings.log_level, "text")
    if settings.is_default_database:
        db.migrate(settings.database_url)
    from bot.trial import run_command

    pages: list[str] | None = [] if args.html else None
    output = asyncio.run(
        run_command(
            settings, args.command_line, user_id=args.user, channel_id=args.channel, html=pages
        )
    )
    print(output, end="")
    if args.html and pages:
        try:
            Path(args.html).write_text(pages[0], encoding="utf-8")
        except OSError as error:
            print(f"coe-bot: cannot write {args.html}: {error.strerror}", file=sys.stderr)
            return 1
        print(f"(preview written to {args.html})")
    return 0


def _safe_url(url: str) -> str:
    """A database URL without its password, for messages."""
    if "@" not in url or "://" not in url:
        return url
    scheme, rest = url.split("://", 1)
    credentials, host = rest.rsplit("@", 1)
    user = credentials.split(":", 1)[0]
    return f"{scheme}://{user}@{host}"


if __name__ == "__main__":
    sys.exit(main())
