"""The one place that builds the Slack Web API client."""

from __future__ import annotations

from typing import Any

from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from slack_sdk.web.async_client import AsyncWebClient

from bot.metrics import Metrics

DEFAULT_TIMEOUT = 10


class _CountFailures(AsyncRetryHandler):
    """Never retries; counts rate limits, server and connection errors for /metrics."""

    def __init__(self, metrics: Metrics) -> None:
        super().__init__(max_retry_count=0)
        self._metrics = metrics

    async def can_retry_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        method = request.url.rsplit("/", 1)[-1].split("?", 1)[0]
        if error is not None:
            self._metrics.slack_api_error(method, "connection_error")
        elif response is not None and response.status_code == 429:
            self._metrics.slack_api_error(method, "ratelimited")
        elif response is not None and response.status_code >= 500:
            self._metrics.slack_api_error(method, f"http_{response.status_code}")
        return False


def build_client(
    *,
    token: str | None,
    base_url: str,
    metrics: Metrics,
    wait_on_rate_limit: bool = True,
    **kwargs: Any,
) -> AsyncWebClient:
    """An AsyncWebClient with retries for 429 `Retry-After`, 5xx and connection errors.

    Background senders pass `wait_on_rate_limit=False` and retry nothing here: they
    reschedule the row for after `Retry-After` (or a backoff) instead of sleeping while
    they hold a claim, and a connection error or timeout is an *unknown outcome* (Slack may
    have posted the message) that they settle from the conversation's history before any
    resend — a blind retry here could post it twice.
    """
    handlers: list[AsyncRetryHandler] = [_CountFailures(metrics)]
    if wait_on_rate_limit:
        handlers += [
            AsyncConnectionErrorRetryHandler(max_retry_count=2),
            AsyncRateLimitErrorRetryHandler(max_retry_count=2),
            AsyncServerErrorRetryHandler(max_retry_count=2),
        ]
    return AsyncWebClient(
        token=token,
        base_url=base_url,
        timeout=kwargs.pop("timeout", DEFAULT_TIMEOUT),
        retry_handlers=handlers,
        **kwargs,
    )


# Errors about the *calling token*, not about a recipient: `account_inactive` means the
# token's own user or workspace was deactivated (https://api.slack.com/methods/chat.postMessage#errors).
TOKEN_ERRORS = frozenset(
    {"invalid_auth", "not_authed", "account_inactive", "token_revoked", "token_expired"}
)
PROBE_SECONDS = 60.0


class TokenHealth:
    """Whether Slack still accepts our bot token. Set by the first worker that hears a
    `TOKEN_ERRORS` answer; while set, the workers send nothing (their rows wait, nobody's
    status changes) and `/readyz` says why; an `auth.test` that succeeds clears it."""

    def __init__(self) -> None:
        self.error: str | None = None
        self.since: float | None = None

    @property
    def dead(self) -> bool:
        return self.error is not None

    def refused(self, error: str, now: float) -> bool:
        """Note a token error; True the first time (the caller logs the alert once)."""
        first = self.error is None
        if first:
            self.error, self.since = error, now
        return first

    def accepted(self) -> None:
        self.error = self.since = None

    async def probe(self, client: AsyncWebClient) -> bool:
        """`auth.test`: True (and cleared) when the token works again."""
        from slack_sdk.errors import SlackApiError

        try:
            await client.auth_test()
        except SlackApiError as error:
            code = str(error.response.get("error") or "")
            if code in TOKEN_ERRORS:
                return False
            raise
        self.accepted()
        return True
