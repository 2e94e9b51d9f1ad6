"""The one place coe-bot talks to GitHub's REST API: an `httpx.AsyncClient` with GitHub's
headers, timeouts, and retries that follow GitHub's rate-limit rules.

GitHub's rules (https://docs.github.com/en/rest/using-the-rest-api/rate-limits-for-the-rest-api
and .../best-practices-for-using-the-rest-api): obey `retry-after` when present; else, when
`x-ratelimit-remaining` is 0, wait until `x-ratelimit-reset` (epoch seconds); else a
secondary limit (403/429 without those headers) waits at least 60 s, then backs off
exponentially. Server errors and dropped connections are retried with backoff too. Requests
run one at a time, and redirects are followed.

Errors (all `GitHubError`): `GitHubAuthError` (401: the token is wrong or expired),
`GitHubPermissionError` (403: the token lacks a permission; names it when GitHub says),
`GitHubUnavailable` (retries used up, or a wait longer than `max_wait` seconds).
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, Self

import httpx

logger = logging.getLogger(__name__)

API_VERSION = "2026-03-10"  # the version the usage-metrics docs' examples use
TIMEOUT = httpx.Timeout(30.0, connect=10.0)
SECONDARY_WAIT = 60.0  # seconds, GitHub's floor for a secondary limit without retry-after

Sleep = Callable[[float], Awaitable[None]]


class GitHubError(Exception):
    """GitHub refused or could not answer; `str()` is one line a CoE admin can act on."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class GitHubAuthError(GitHubError):
    pass


class GitHubPermissionError(GitHubError):
    pass


class GitHubUnavailable(GitHubError):
    pass


@dataclass(frozen=True)
class Retrying:
    """How hard to try: `attempts` in all per request, backoff from `base_delay` seconds
    doubling, and never a single wait longer than `max_wait` seconds (a longer rate-limit
    reset fails the run with the time GitHub named instead of hanging it)."""

    attempts: int = 6
    base_delay: float = 1.0
    max_wait: float = 900.0


class GitHubClient:
    """`async with GitHubClient(api_url, token) as github: await github.get_json(path)`.

    `sleep` is what waiting means (tests pass one that records the waits)."""

    def __init__(
        self,
        api_url: str,
        token: str,
        *,
        retrying: Retrying | None = None,
        sleep: Sleep = asyncio.sleep,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.retrying = retrying or Retrying()
        self._sleep = sleep
        self._http = httpx.AsyncClient(
            base_url=api_url.rstrip("/"),
            headers={
                "Authorization": f"Bearer {token}",
                "Accept": "application/vnd.github+json",
                "X-GitHub-Api-Version": API_VERSION,
                "User-Agent": "coe-bot",  # GitHub refuses requests without one
            },
            timeout=TIMEOUT,
            follow_redirects=True,
            transport=transport,
        )
        self.requests = 0  # every request sent, retries included

    async def sleep(self, seconds: float) -> None:
        """Wait as this client waits (tests record the waits instead)."""
        await self._sleep(seconds)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._http.aclose()

    async def get(
        self,
        path_or_url: str,
        *,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        """GET with retries; the final response (2xx, 204, 304 or 404 are the caller's to
        read; `headers` such as `If-None-Match` make it conditional). Raises
        `GitHubAuthError`, `GitHubPermissionError` or `GitHubUnavailable`."""
        async with self._retried(path_or_url, params, download=False, headers=headers) as response:
            return response

    async def graphql(self, query: str, variables: dict[str, Any]) -> Any:
        """`data` of a GraphQL query (POST /graphql), with the REST retries; GitHub's primary
        limit answers 200 with a `RATE_LIMITED` error: waited out until `x-ratelimit-reset`
        like a REST one. Raises `GitHubError` with GitHub's messages for any other error."""
        for attempt in range(1, self.retrying.attempts + 1):
            body = {"query": query, "variables": variables}
            async with self._retried("/graphql", None, download=False, json=body) as response:
                if response.status_code >= 400:
                    raise GitHubError(_refusal(response, "/graphql"), status=response.status_code)
                await response.aread()
                answer = response.json()
                reset = response.headers.get("x-ratelimit-reset", "")
            errors = answer.get("errors") or []
            if not any(e.get("type") == "RATE_LIMITED" for e in errors):
                if errors:
                    said = "; ".join(str(e.get("message", "")) for e in errors[:3])
                    raise GitHubError(f"GitHub's GraphQL API answered: {said}")
                return answer.get("data")
            wait = max(float(reset) - time.time(), 0.0) + 1.0 if reset.isdigit() else 60.0
            if attempt == self.retrying.attempts or wait > self.retrying.max_wait:
                raise GitHubUnavailable(
                    f"GitHub's GraphQL points are spent until {reset or 'later'}; it asked to"
                    f" wait {wait:.0f} s. Try again later."
                )
            logger.warning("GitHub GraphQL rate limited; waiting %.0f s", wait)
            await self._sleep(wait)
        raise AssertionError("unreachable")  # pragma: no cover

    async def get_json(self, path: str, *, params: dict[str, Any] | None = None) -> Any:
        response = await self.get(path, params=params)
        if response.status_code >= 400:
            raise GitHubError(_refusal(response, path), status=response.status_code)
        return response.json()

    @asynccontextmanager
    async def download(self, url: str) -> AsyncIterator[httpx.Response]:
        """A streamed GET of a signed download link (a report file), sent without the
        token (the link carries its own authority); the response, whatever its status (an
        expired link answers 403), is open inside the block."""
        async with self._retried(url, None, download=True) as response:
            yield response

    @asynccontextmanager
    async def _retried(
        self,
        url: str,
        params: dict[str, Any] | None,
        *,
        download: bool,
        headers: dict[str, str] | None = None,
        json: Any = None,
    ) -> AsyncIterator[httpx.Response]:
        method = "GET" if json is None else "POST"
        for attempt in range(1, self.retrying.attempts + 1):
            request = self._http.build_request(
                method, url, params=params, headers=headers, json=json
            )
            if download:
                del request.headers["Authorization"]
            self.requests += 1
            try:
                response = await self._http.send(request, stream=download)
            except (httpx.TransportError, httpx.TimeoutException) as error:
                delay = self._backoff(attempt)
                if attempt == self.retrying.attempts:
                    raise GitHubUnavailable(
                        f"GitHub did not answer {_where(url)}: {type(error).__name__}"
                    ) from error
                logger.warning(
                    "GitHub %s failed (%s); retrying in %.0f s",
                    _where(url),
                    type(error).__name__,
                    delay,
                )
                await self._sleep(delay)
                continue
            wait = self._wait_for(response, attempt, download=download)
            if wait is None:
                try:
                    if not download:
                        _raise_for_access(response, url)
                    yield response
                finally:
                    await response.aclose()
                return
            await response.aclose()
            if attempt == self.retrying.attempts or wait > self.retrying.max_wait:
                raise GitHubUnavailable(
                    f"GitHub kept refusing {_where(url)} ({response.status_code}); "
                    f"it asked to wait {wait:.0f} s. Try again later.",
                    status=response.status_code,
                )
            logger.warning(
                "GitHub answered %s to %s; waiting %.0f s", response.status_code, _where(url), wait
            )
            await self._sleep(wait)
        raise AssertionError("unreachable")  # pragma: no cover

    def _wait_for(self, response: httpx.Response, attempt: int, *, download: bool) -> float | None:
        """Seconds to wait before trying again, or None when this answer is final."""
        status = response.status_code
        if status >= 500:
            return self._backoff(attempt)
        if status not in (403, 429) or (download and status == 403):
            return None
        retry_after = response.headers.get("retry-after")
        if retry_after is not None and retry_after.strip().isdigit():
            return float(retry_after)
        if response.headers.get("x-ratelimit-remaining") == "0":
            reset = response.headers.get("x-ratelimit-reset", "")
            if reset.isdigit():
                return max(float(reset) - time.time(), 0.0) + 1.0
        if status == 429 or _is_secondary_limit(response):
            return max(SECONDARY_WAIT, self._backoff(attempt))
        return None

    def _backoff(self, attempt: int) -> float:
        delay = float(self.retrying.base_delay * 2.0 ** (attempt - 1))
        return delay + random.uniform(0, delay / 4)


def message_of(response: httpx.Response) -> str:
    """The `message` of a GitHub JSON body ("" when it has none)."""
    try:
        body = response.json()
    except ValueError:
        return ""
    return str(body.get("message", "")) if isinstance(body, dict) else ""


def _is_secondary_limit(response: httpx.Response) -> bool:
    return "secondary rate limit" in message_of(response).lower()


def _raise_for_access(response: httpx.Response, url: str) -> None:
    if response.status_code == 401:
        raise GitHubAuthError(
            "GitHub refused the token (401 Bad credentials): set a valid USAGE_GITHUB_TOKEN",
            status=401,
        )
    if response.status_code == 403:
        needs = response.headers.get("x-accepted-github-permissions")
        oauth = response.headers.get("x-accepted-oauth-scopes")
        wanted = needs or oauth
        raise GitHubPermissionError(
            f"GitHub refused {_where(url)} (403): the token lacks permission"
            + (f"; GitHub wants {wanted}" if wanted else "")
            + ". A GitHub App with 'Organization Copilot metrics' and 'GitHub Copilot Business'"
            " read permissions can read both reports and seats.",
            status=403,
        )


def _refusal(response: httpx.Response, url: str) -> str:
    message = message_of(response) or response.text[:200]
    return f"GitHub answered {response.status_code} to {_where(url)}: {message}".rstrip(": ")


def _where(url: str) -> str:
    """A URL without its query (a signed link's signature is not for logs)."""
    return url.split("?", 1)[0]
