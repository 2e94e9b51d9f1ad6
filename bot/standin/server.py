"""What every stand-in server shares: an aiohttp app on a local port, started and stopped
(`async with`), and the address it listens on."""

from __future__ import annotations

import logging
from types import TracebackType
from typing import Self

from aiohttp import web

logger = logging.getLogger(__name__)


class LocalServer:
    """A stand-in's HTTP server. Subclasses build `self.app` before `start`."""

    app: web.Application
    name = "stand-in"  # in the line logged once it listens
    log_level = logging.DEBUG

    def __init__(self) -> None:
        self._runner: web.AppRunner | None = None
        self._host = "127.0.0.1"
        self._port: int | None = None

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError(f"{type(self).__name__} is not started")
        return self._port

    @property
    def api_url(self) -> str:
        """Where clients point their API base URL."""
        raise NotImplementedError

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        runner = web.AppRunner(self.app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, host, port).start()
        self._runner, self._host = runner, host
        self._port = int(runner.addresses[0][1])
        logger.log(self.log_level, "%s listening on %s", self.name, self.api_url)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()
