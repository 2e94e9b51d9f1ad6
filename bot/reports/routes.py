"""`GET /reports/monthly?month=YYYY-MM`: the month's report as a page.

Who may read it: an API token with the `metrics` scope (`Authorization: Bearer …`), or a
signed link (`bot.reports.links`, `REPORT_LINK_SECRET`). A token in the query string is
refused, whatever it is. Every view is audited (`report.view`) before anything is read;
a refusal says why in a short page and changes nothing. A page is built at most once per
month every `FRESH_SECONDS` (the figures move daily); concurrent views of one month wait
for the same build.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hmac
import html
import logging
import re
from collections import defaultdict

from aiohttp import web
from sqlalchemy.exc import SQLAlchemyError

from bot.api_tokens import METRICS, consumer_for
from bot.cache import TTLCache
from bot.config import secret_bytes
from bot.deps import Deps
from bot.reports import links, page
from bot.reports.monthly import BadMonth, parse_month, previous_month
from bot.services import audit
from bot.views.common import sentence

logger = logging.getLogger(__name__)

FRESH_SECONDS = 300.0
# a query parameter named like a credential: whatever its value, the link is refused
CREDENTIAL_NAME = re.compile(r"token|auth|key|secret|password|passwd|bearer|session|jwt", re.I)
HEADERS = {
    "Content-Security-Policy": page.CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "private, no-store",
}


class Pages:
    """Built pages by month, for `FRESH_SECONDS`, and one lock per month."""

    def __init__(self) -> None:
        self.cache: TTLCache[str] = TTLCache(ttl=FRESH_SECONDS, size=24)
        self.locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)

    async def get(self, deps: Deps, month: dt.date) -> str:
        key = f"{month:%Y-%m}"
        async with self.locks[key]:
            found = self.cache.get(key)
            if found is None:
                report = await page.build(
                    sessions=deps.sessions,
                    settings=deps.settings,
                    policy=deps.policy.active,
                    month=month,
                    now=deps.clock(),
                )
                found = await page.html(report)
                self.cache.put(key, found)
            return found


def add_routes(app: web.Application, deps: Deps) -> None:
    """Mount `/reports/monthly` on `app`."""
    pages = Pages()

    async def monthly(request: web.Request) -> web.StreamResponse:
        return await _monthly(request, deps, pages)

    app.router.add_route("*", links.PATH, monthly)  # other methods: a 405 with its CSP


def _refusal(status: int, title: str, detail: str) -> web.Response:
    body = (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title></head><body><h1>{html.escape(title)}</h1>"
        f"<p>{html.escape(detail)}</p></body></html>"
    )
    headers = dict(HEADERS)
    if status == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="coe-bot"'
    return web.Response(
        status=status, text=body, content_type="text/html", charset="utf-8", headers=headers
    )


async def _monthly(request: web.Request, deps: Deps, pages: Pages) -> web.StreamResponse:
    now = deps.clock()
    query = request.query
    if request.method not in ("GET", "HEAD"):
        refused = _refusal(405, "Not allowed", "The report is read with GET.")
        refused.headers["Allow"] = "GET, HEAD"
        return refused
    presented = {value.encode("utf-8", "surrogateescape") for value in query.values()}
    if any(CREDENTIAL_NAME.search(name) for name in query) or any(
        hmac.compare_digest(value, token.secret.encode("utf-8", "surrogateescape"))
        for token in deps.settings.api_tokens
        for value in presented
    ):
        return _refusal(
            400,
            "Tokens never go in a link",
            "Send an API token in the Authorization header, or use a signed link from the"
            " CoE. Nothing was shown; treat a token that was put in a link as leaked.",
        )
    try:
        month = parse_month(query["month"], today=now.date()) if "month" in query else None
    except BadMonth as error:
        return _refusal(400, "Which month?", f"{error}.")
    month = month or previous_month(now.date())
    label = f"{month:%Y-%m}"
    consumer = consumer_for(deps.settings.api_tokens, request.headers.get("Authorization"))
    if consumer is not None:
        if METRICS not in consumer.scopes:
            return _refusal(
                403, "Not allowed", "This API token lacks the metrics scope the report needs."
            )
        actor, details = f"api:{consumer.name}", {"via": "token", "token": consumer.name}
    else:
        secret = deps.settings.report_link_secret
        signed = "signature" in query or "expires" in query
        if not signed or secret is None:
            reason = (
                "Signed links are off on this server (REPORT_LINK_SECRET is unset)."
                if signed
                else "Open the signed link the CoE shared, or send an API token with the"
                " metrics scope in the Authorization header."
            )
            return _refusal(401, "This report needs a link or a token", reason)
        try:
            until = links.check(
                secret=secret_bytes(secret.get_secret_value()),
                month=label,
                expires=query.get("expires"),
                signature=query.get("signature"),
                now=now,
            )
        except links.BadLink as error:
            return _refusal(401, "This link does not open the report", f"{sentence(str(error))}.")
        actor, details = "link", {"via": "link", "expires": until.isoformat()}
    try:
        async with deps.sessions.begin() as session:
            await audit.record(
                session=session,
                actor=actor,
                action="report.view",
                subject=label,
                details=details,
                now=now,
            )
        body = await pages.get(deps, month)
    except SQLAlchemyError:
        logger.exception("the monthly report could not be read")
        return _refusal(
            503, "The report is unavailable", "The database did not answer; try again soon."
        )
    return web.Response(text=body, content_type="text/html", charset="utf-8", headers=HEADERS)
