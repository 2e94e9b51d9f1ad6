"""SlackSender: sends requests to an app's ``/slack/events`` exactly as Slack does.

Bodies carry every field Slack sends (form-encoded commands, ``payload=<json>``
interactions, JSON Events API callbacks) and are signed with the signing secret:
``X-Slack-Signature: v0=hex(hmac_sha256(secret, "v0:{ts}:{body}"))``. Given a `FakeSlack`,
response_urls and trigger_ids come from it, so what the app does with them is recorded.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from dataclasses import dataclass, replace
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self
from urllib.parse import urlencode

import aiohttp

from .blockkit import check_message, validate_view
from .payloads import Payloads

if TYPE_CHECKING:
    from .webapi import FakeSlack

USER_AGENT = "Slackbot 1.0 (+https://api.slack.com/robots)"
FORM = "application/x-www-form-urlencoded"


@dataclass(frozen=True)
class SentRequest:
    """The app's answer to one request (`elapsed`: seconds until it answered), with the
    body, response_url and trigger_id that were sent."""

    status: int
    headers: dict[str, str]
    text: str
    body: bytes = b""
    content_type: str = ""
    elapsed: float = 0.0
    response_url: str | None = None
    trigger_id: str | None = None

    def json(self) -> Any:
        """The answer decoded as JSON, or None when it is not JSON."""
        try:
            return json.loads(self.text)
        except ValueError:
            return None

    @property
    def refused(self) -> str | None:
        """What Slack would refuse in this answer (a command's reply message, or the view a
        `response_action` shows), or None: Slack checks what an app acks with too."""
        answer = self.json() if self.status == 200 else None
        if not isinstance(answer, dict):
            return None
        view = answer.get("view")
        if answer.get("response_action") in ("update", "push") and view is not None:
            problems = validate_view(view)
            return f"invalid view: {problems[:3]}" if problems else None
        if "blocks" in answer or "text" in answer:
            found = check_message(answer.get("text"), answer.get("blocks"))
            return f"{found[0]}: {found[1][:3]}" if found else None
        return None


class RefusedAnswer(AssertionError):
    """The app answered a request with something Slack would refuse (a strict sender)."""


def signature(secret: str, body: bytes, timestamp: int) -> str:
    """Slack's v0 request signature (same algorithm as slack_sdk's SignatureVerifier)."""
    base = b"v0:" + str(timestamp).encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


class SlackSender(Payloads):
    """A signed client posting commands, interactions and events to an app."""

    def __init__(
        self,
        events_url: str,
        signing_secret: str,
        *,
        slack: FakeSlack | None = None,
        team_id: str = "T0STANDIN",
        api_app_id: str = "A0STANDIN",
        team_domain: str = "standin",
        verification_token: str = "standin-verification-token",
        timeout: float = 10.0,
        strict: bool = True,
    ) -> None:
        super().__init__(
            slack=slack,
            team_id=team_id,
            api_app_id=api_app_id,
            team_domain=team_domain,
            verification_token=verification_token,
        )
        self.events_url = events_url
        self.signing_secret = signing_secret
        self.timeout = timeout
        self.strict = strict  # an answer Slack would refuse raises `RefusedAnswer`
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def sign(self, body: bytes, timestamp: int | None = None) -> dict[str, str]:
        ts = int(time.time()) if timestamp is None else timestamp
        return {
            "X-Slack-Request-Timestamp": str(ts),
            "X-Slack-Signature": signature(self.signing_secret, body, ts),
        }

    async def post_raw(self, body: bytes, headers: dict[str, str]) -> SentRequest:
        """POST `body` with exactly `headers` (no signing): for malformed-request tests."""
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.timeout))
        started = time.monotonic()
        async with self._session.post(self.events_url, data=body, headers=headers) as res:
            text = await res.text()
        return SentRequest(
            status=res.status,
            headers=dict(res.headers),
            text=text,
            body=body,
            content_type=headers.get("Content-Type", ""),
            elapsed=time.monotonic() - started,
        )

    async def resend(
        self, sent: SentRequest, *, retry_num: int = 1, retry_reason: str = "http_timeout"
    ) -> SentRequest:
        """Send `sent`'s body again, re-signed, as Slack's retry number `retry_num`."""
        again = await self._post(
            sent.body, sent.content_type, retry_num=retry_num, retry_reason=retry_reason
        )
        return replace(again, response_url=sent.response_url, trigger_id=sent.trigger_id)

    async def _post(
        self,
        body: bytes,
        content_type: str,
        *,
        retry_num: int | None = None,
        retry_reason: str = "http_timeout",
        timestamp: int | None = None,
    ) -> SentRequest:
        headers = {"Content-Type": content_type, "User-Agent": USER_AGENT}
        headers.update(self.sign(body, timestamp))
        if retry_num is not None:
            headers["X-Slack-Retry-Num"] = str(retry_num)
            headers["X-Slack-Retry-Reason"] = retry_reason
        sent = await self.post_raw(body, headers)
        if self.strict and sent.refused:
            raise RefusedAnswer(f"Slack would refuse the app's answer: {sent.refused}")
        return sent

    async def _post_payload(
        self, payload: dict[str, Any], *, retry_num: int | None = None
    ) -> SentRequest:
        body = urlencode({"payload": json.dumps(payload)}).encode()
        sent = await self._post(body, FORM, retry_num=retry_num)
        return replace(
            sent, response_url=payload.get("response_url"), trigger_id=payload["trigger_id"]
        )

    async def command(
        self,
        command: str,
        text: str = "",
        *,
        user_id: str = "U0ALICE",
        channel_id: str = "C0GENERAL",
        trigger_id: str | None = None,
        response_url: str | None = None,
        retry_num: int | None = None,
        timestamp: int | None = None,
    ) -> SentRequest:
        """A slash command, form-encoded with every field Slack sends."""
        fields = self.command_payload(
            command,
            text,
            user_id=user_id,
            channel_id=channel_id,
            trigger_id=trigger_id,
            response_url=response_url,
        )
        body = urlencode(fields).encode()
        sent = await self._post(body, FORM, retry_num=retry_num, timestamp=timestamp)
        return replace(sent, response_url=fields["response_url"], trigger_id=fields["trigger_id"])

    async def block_action(
        self,
        action_id: str,
        *,
        value: str | None = None,
        user_id: str = "U0ALICE",
        channel_id: str = "C0GENERAL",
        block_id: str = "b",
        message: dict[str, Any] | None = None,
        view: dict[str, Any] | None = None,
        response_url: str | None = None,
        action_type: str = "button",
        text: str = "Button",
        retry_num: int | None = None,
    ) -> SentRequest:
        """A block_actions interaction (a button click by default)."""
        payload = self.block_action_payload(
            action_id,
            value=value,
            user_id=user_id,
            channel_id=channel_id,
            block_id=block_id,
            message=message,
            view=view,
            response_url=response_url,
            action_type=action_type,
            text=text,
        )
        return await self._post_payload(payload, retry_num=retry_num)

    async def view_submission(
        self,
        callback_id: str,
        values: dict[str, Any],
        *,
        user_id: str = "U0ALICE",
        private_metadata: str = "",
        view_id: str | None = None,
        retry_num: int | None = None,
    ) -> SentRequest:
        """A view_submission of a modal; `values` is view.state.values (block -> action)."""
        payload = self.view_submission_payload(
            callback_id,
            values,
            user_id=user_id,
            private_metadata=private_metadata,
            view_id=view_id,
        )
        return await self._post_payload(payload, retry_num=retry_num)

    async def event(
        self,
        event: dict[str, Any],
        *,
        event_id: str | None = None,
        retry_num: int | None = None,
        retry_reason: str = "http_timeout",
    ) -> SentRequest:
        """An Events API ``event_callback`` (JSON), optionally marked as a retry."""
        body = json.dumps(self.event_body(event, event_id=event_id)).encode()
        return await self._post(
            body, "application/json", retry_num=retry_num, retry_reason=retry_reason
        )

    async def url_verification(self, challenge: str) -> SentRequest:
        body = {
            "token": self.verification_token,
            "challenge": challenge,
            "type": "url_verification",
        }
        return await self._post(json.dumps(body).encode(), "application/json")
