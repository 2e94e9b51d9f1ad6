"""The stand-in's response_urls: issued per command/interaction, 5 posts within 30 minutes.

Success answers ``200 ok`` (text), as Slack does; refusals answer 404 ``used_url`` /
``expired_url`` / ``invalid_url``, or 400 ``no_text`` / ``invalid_blocks`` /
``invalid_payload``. Every post is recorded as a `ResponsePost`, accepted or not.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from aiohttp import web

from .blockkit import check_message
from .faults import FaultBook
from .workspace import Clock

RESPONSE_URL_USES = 5
RESPONSE_URL_TTL = timedelta(minutes=30)


@dataclass(frozen=True)
class ResponsePost:
    """One POST to a `response_url` (accepted or not)."""

    url_id: str
    url: str
    body: dict[str, Any]
    at: datetime
    status: int
    ok: bool
    error: str | None = None


@dataclass
class _Issued:
    url: str
    issued: datetime
    uses: int = 0


class _BadPayload(Exception):
    pass


async def _body(request: web.Request) -> dict[str, Any]:
    """A response_url body: JSON, or a form with a JSON `payload`."""
    text = await request.text()
    if request.content_type != "application/json":
        form = await request.post()
        text = str(form.get("payload", ""))
    try:
        body = json.loads(text)
    except ValueError:
        raise _BadPayload from None
    if not isinstance(body, dict):
        raise _BadPayload
    return body


def _problem(body: dict[str, Any]) -> str | None:
    if body.get("delete_original"):
        return None
    if not body.get("text") and not body.get("blocks") and not body.get("attachments"):
        return "no_text"
    problem = check_message(body.get("text"), body.get("blocks"))
    return problem[0] if problem is not None else None


class ResponseUrls:
    """Issues response_urls under `base_url` and answers the posts made to them."""

    def __init__(self, clock: Clock, faults: FaultBook) -> None:
        self.clock = clock
        self.faults = faults
        self.posts: list[ResponsePost] = []
        self._issued: dict[str, _Issued] = {}

    def issue(self, base_url: str) -> str:
        url_id = secrets.token_urlsafe(12)
        url = f"{base_url}response/{url_id}"
        self._issued[url_id] = _Issued(url=url, issued=self.clock())
        return url

    async def handle(self, request: web.Request) -> web.Response:
        url_id = request.match_info["url_id"]
        body: dict[str, Any] = {}
        try:
            body = await _body(request)
            status, error = self._use(url_id, body)
        except _BadPayload:
            status, error = 400, "invalid_payload"
        issued = self._issued.get(url_id)
        url = issued.url if issued is not None else str(request.url.with_query(None))
        post = ResponsePost(url_id, url, body, self.clock(), status, status == 200, error)
        self.posts.append(post)
        return web.Response(status=status, text=error or "ok", content_type="text/html")

    def _use(self, url_id: str, body: dict[str, Any]) -> tuple[int, str | None]:
        canned = self.faults.take("response_url")
        if canned is not None:
            return canned[0], str(canned[1].get("error"))
        issued = self._issued.get(url_id)
        if issued is None:
            return 404, "invalid_url"
        if self.clock() - issued.issued > RESPONSE_URL_TTL:
            return 404, "expired_url"
        if issued.uses >= RESPONSE_URL_USES:
            return 404, "used_url"
        problem = _problem(body)
        if problem is not None:
            return 400, problem
        issued.uses += 1
        return 200, None
