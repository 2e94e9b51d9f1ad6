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
