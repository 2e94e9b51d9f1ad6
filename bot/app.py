"""The composition root: `create_app(settings)` builds everything, starts nothing.

The aiohttp application serves Bolt at `POST /slack/events` plus health, readiness and
metrics. Its `cleanup_ctx` starts the outbox worker and the scheduler inside the
running loop and stops them, waiting for in-flight work, on shutdown.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import logging
import time
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest

from bot import db, handlers, ingress
from bot.api.routes import create_api
from bot.config import ConfigError, Settings
from bot.deps import Deps
from bot.jobs import running_scheduler
from bot.jobs.outbox import running_worker
from bot.jobs.survey_delivery import running_delivery
from bot.metrics import Metrics
from bot.models import utcnow
from bot.reports import routes as report_routes
from bot.services import policy
from bot.services.admins import AdminDirectory
from bot.services.policy import PolicyStore
from bot.services.teams import TEAM_TIERS_REFRESH, TeamDirectory
from bot.slack import build_client
from bot.tasks import Admission, Background, Shed
from bot.views.common import escape
from bot.words import real_words

logger = logging.getLogger(__name__)

DEPS = web.AppKey("deps", Deps)
BOLT = web.AppKey("bolt", AsyncApp)


def build_deps(
    settings: Settings,
    *,
    clock: Callable[[], dt.datetime] = utcnow,
    batch_delay: float = 0.1,
) -> Deps:
    """Everything handlers and jobs share; raises `PackError` for an invalid policy pack."""
    if settings.slack_bot_token is None:
        raise ConfigError("SLACK_BOT_TOKEN: required to talk to Slack")
    metrics = Metrics()
    client = build_client(
        token=settings.slack_bot_token.get_secret_value(),
        base_url=settings.slack_api_url,
        metrics=metrics,
    )

    sender = build_client(
        token=settings.slack_bot_token.get_secret_value(),
        base_url=settings.slack_api_url,
        metrics=metrics,
        wait_on_rate_limit=False,
    )

    async def group_members(group_id: str) -> list[str]:
        response = await client.usergroups_users_list(usergroup=group_id)
        return list(response.get("users") or [])

    # Background work may hold at most half the pool; the rest is for requests, admitted
    # only as many at once as can hold a connection (docs/architecture.md, "Load").
    background_slots = max(2, settings.database_pool_size // 2)
    connections = settings.database_pool_size + settings.database_max_overflow
    real_words()  # the dictionaries typo correction consults, read before the first question
    engine = db.create_engine(
        settings.database_url,
        **(
            {}
            if db.is_sqlite(settings.database_url)
            else {
                "pool_size": settings.database_pool_size,
                "max_overflow": settings.database_max_overflow,
            }
        ),
    )
    return Deps(
        settings=settings,
        engine=engine,
        sessions=db.make_sessions(engine),
        policy=PolicyStore(settings.policy_pack),
        metrics=metrics,
        client=client,
        sender=sender,
        admins=AdminDirectory(settings.admin_user_ids, settings.admin_group_ids, group_members),
        teams=TeamDirectory(group_members),
        clock=clock,
        batch_delay=batch_delay,
        background=Background(slots=background_slots),
        admission=Admission(limit=max(4, connections - background_slots)),
    )


class _TokenFromClient(logging.Filter):
    """Bolt reads SLACK_BOT_TOKEN itself and warns that our client's token wins: it does."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "`token` will be unused" not in record.getMessage()


_BOLT_LOGGER = logging.getLogger("bot.bolt")
_BOLT_LOGGER.addFilter(_TokenFromClient())


def build_bolt(deps: Deps) -> AsyncApp:
    """The Bolt app with every listener. Requests are verified before they reach it."""
    bolt = AsyncApp(
        client=deps.client,
        signing_secret="verified-by-the-aiohttp-route",
        request_verification_enabled=False,
        process_before_response=True,
        raise_error_for_unhandled_request=False,
        logger=_BOLT_LOGGER,
    )
    handlers.register_all(bolt, deps)
    return bolt


def create_app(
    settings: Settings,
    *,
    clock: Callable[[], dt.datetime] = utcnow,
    run_workers: bool = True,
    socket_mode: bool = False,
    batch_delay: float = 0.1,
    audit_startup: bool = True,
) -> web.Application:
    """The aiohttp app. With `socket_mode`, Slack's requests arrive over a WebSocket
    (SLACK_APP_TOKEN) instead of `POST /slack/events`; health and metrics stay on HTTP."""
    settings.require_slack(socket_mode=socket_mode)
    deps = build_deps(settings, clock=clock, batch_delay=batch_delay)
    app = web.Application(client_max_size=1024**2)
    app[DEPS] = deps
    app[BOLT] = build_bolt(deps)
    if settings.slack_signing_secret is not None and not socket_mode:
        secret = settings.slack_signing_secret.get_secret_value().encode()
        app.router.add_post("/slack/events", _slack_route(app, secret))
    app.router.add_get("/healthz", _healthz)
    app.router.add_get("/readyz", _readyz)
    app.router.add_get("/metrics", _metrics)
    report_routes.add_routes(app, deps)
    if settings.coe_api_token is not None:
        app.add_subapp("/api/v1", create_api(deps, settings.api_tokens))
    else:
        app.router.add_route("*", "/api/v1{tail:(/.*)?}", _api_disabled)
    app.cleanup_ctx.append(_lifecycle(run_workers, audit_startup))
    if socket_mode:
        app.cleanup_ctx.append(_socket_mode)
    return app


async def _api_disabled(_: web.Request) -> web.Response:
    """With no COE_API_TOKEN the API is off: every path says so, in JSON."""
    return web.json_response({"error": "api_disabled", "hint": "set COE_API_TOKEN"}, status=404)


@contextlib.asynccontextmanager
async def _socket_mode(app: web.Application) -> AsyncIterator[None]:
    settings = app[DEPS].settings
    assert settings.slack_app_token is not None
    handler = AsyncSocketModeHandler(app[BOLT], settings.slack_app_token.get_secret_value())
    await handler.connect_async()  # type: ignore[no-untyped-call]
    logger.info("connected to Slack over Socket Mode")
    try:
        yield
    finally:
        await handler.close_async()  # type: ignore[no-untyped-call]


def _lifecycle(
    run_workers: bool, audit_startup: bool
) -> Callable[[web.Application], contextlib.AbstractAsyncContextManager[None]]:
    @contextlib.asynccontextmanager
    async def lifecycle(app: web.Application) -> AsyncIterator[None]:
        deps = app[DEPS]
        if audit_startup:  # not for `coe-bot try`, which starts an app per command
            await _audit_startup_load(deps)
        await _load_team_tiers(deps)
        async with contextlib.AsyncExitStack() as stack:
            stack.enter_context(_refreshing_team_tiers(deps))
            if run_workers:
                await stack.enter_async_context(running_worker(deps))
                await stack.enter_async_context(running_delivery(deps))
                await stack.enter_async_context(running_scheduler(deps))
            yield
            await deps.background.drain()
        await deps.engine.dispose()

    return lifecycle


async def _audit_startup_load(deps: Deps) -> None:
    try:
        async with deps.sessions.begin() as session:
            await policy.audit_load(
                session=session,
                actor="system",
                active=deps.policy.active,
                trigger="startup",
                now=deps.clock(),
                only_if_changed=True,
            )
    except Exception as exc:  # the service still answers from memory; readiness reports it
        logger.warning("could not audit the policy load at start-up: %s", type(exc).__name__)


async def _load_team_tiers(deps: Deps) -> None:
    try:
        async with deps.sessions() as session:
            await deps.team_tiers.load(session)
    except Exception as exc:  # answers go on without team defaults until the next refresh
        logger.warning("could not load team tiers: %s", type(exc).__name__)


@contextlib.contextmanager
def _refreshing_team_tiers(deps: Deps) -> Iterator[None]:
    """Reload team tiers every `TEAM_TIERS_REFRESH` s: another replica's `teams map` or a
    CLI import reaches this process within that time."""

    async def refresh() -> None:
        while True:
            await asyncio.sleep(TEAM_TIERS_REFRESH)
            await _load_team_tiers(deps)

    task = asyncio.get_running_loop().create_task(refresh(), name="team-tiers")
    try:
        yield
    finally:
        task.cancel()


def _slack_route(app: web.Application, secret: bytes) -> Callable[[web.Request], Any]:
    async def slack_events(request: web.Request) -> web.StreamResponse:
        started = time.perf_counter()
        deps = app[DEPS]
        body = await request.read()
        headers = request.headers
        timestamp, signature = (
            headers.get("X-Slack-Request-Timestamp"),
            headers.get("X-Slack-Signature"),
        )
        if not ingress.signed(secret, body, timestamp, signature, time.time()):
            deps.metrics.request("unsigned", "rejected", time.perf_counter() - started)
            return web.json_response({"error": "invalid request signature"}, status=401)
        try:
            payload = ingress.read_payload(body, request.headers.get("Content-Type"))
        except ingress.MalformedPayload as problem:
            deps.metrics.request("malformed", "rejected", time.perf_counter() - started)
            return web.json_response({"error": f"malformed request: {problem}"}, status=400)
        passed = {k: v for k, v in headers.items() if k.lower() != "content-type"}
        bolt_request = AsyncBoltRequest(  # the checked payload, as JSON: Bolt reads it as is
            body=json.dumps(payload),
            query=request.query_string,
            headers={**passed, "Content-Type": "application/json"},
        )
        try:
            async with deps.admission.turn():
                bolt_response = await app[BOLT].async_dispatch(bolt_request)
        except Shed:
            deps.metrics.request(_label(payload), "shed", time.perf_counter() - started)
            return _busy(payload)
        if bolt_response.status == 404:  # no listener takes it
            deps.metrics.request(_label(payload), "unhandled", time.perf_counter() - started)
            if payload.get("type") == "event_callback":  # acknowledged, or Slack retries it
                return web.Response(status=200)
            return web.json_response(
                {"error": "malformed request: nothing in coe-bot handles this"}, status=400
            )
        outcome = "ok" if bolt_response.status < 400 else f"http_{bolt_response.status}"
        deps.metrics.request(_label(bolt_request.body), outcome, time.perf_counter() - started)
        return await to_aiohttp_response(bolt_response)

    return slack_events


def _busy(payload: dict[str, Any]) -> web.Response:
    """The answer to a request shed unworked: a command's user reads that nothing ran; an
    event or interaction gets 503, so Slack sends the event again (or shows its error)."""
    if payload.get("command"):
        command = escape(str(payload["command"])[:40])
        return web.json_response(
            {
                "response_type": "ephemeral",
                "text": f":warning: coe-bot is too busy right now: `{command}` did *not run* "
                "and nothing was recorded. Please try again in a minute.",
            }
        )
    return web.Response(status=503, text="busy: send again later")


def _label(body: dict[str, Any]) -> str:
    if body.get("command"):
        return str(body["command"])[:40]
    if body.get("type") == "event_callback":
        return "event:" + str((body.get("event") or {}).get("type"))[:40]
    return str(body.get("type") or "unknown")[:40]


async def _healthz(_: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def _readyz(request: web.Request) -> web.Response:
    deps = request.app[DEPS]
    ready, detail = await db.is_ready(deps.engine)
    if ready and deps.token.dead:
        ready, detail = False, f"Slack refuses the bot token ({deps.token.error}): nothing is sent"
    return web.json_response(
        {"status": "ready" if ready else "not ready", "detail": detail},
        status=200 if ready else 503,
    )


async def _metrics(request: web.Request) -> web.Response:
    metrics = request.app[DEPS].metrics
    return web.Response(body=metrics.render(), headers={"Content-Type": metrics.content_type})
