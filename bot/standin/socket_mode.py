"""The Socket Mode side of the stand-in: the WebSocket that `apps.connections.open` names.

Protocol, as slack_sdk's `SocketModeClient` expects it: on connect the server sends a
``hello``; it then pushes envelopes ``{"envelope_id", "type", "payload",
"accepts_response_payload", ...}`` and the app acks each with ``{"envelope_id",
"payload"?}``. A ``disconnect`` message asks the client to reconnect with a fresh URL.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import uuid
from typing import Any, Literal

from aiohttp import WSMsgType, web

logger = logging.getLogger(__name__)

EnvelopeType = Literal["slash_commands", "interactive", "events_api"]


class SocketModeServer:
    """Accepts Socket Mode connections and exchanges envelopes with the app."""

    def __init__(self, *, app_id: str) -> None:
        self.app_id = app_id
        self.received: list[dict[str, Any]] = []
        self._tickets: set[str] = set()
        self._sockets: list[web.WebSocketResponse] = []
        self._pending: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._changed = asyncio.Condition()

    @property
    def connected(self) -> int:
        return len(self._sockets)

    def issue_ticket(self) -> str:
        ticket = secrets.token_urlsafe(16)
        self._tickets.add(ticket)
        return ticket

    async def handle(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["ticket"] not in self._tickets:
            return web.Response(status=404, text="invalid_ticket")
        ws = web.WebSocketResponse(timeout=1.0)
        await ws.prepare(request)
        await self._register(ws)
        try:
            await ws.send_json(self._hello())
            async for msg in ws:
                if msg.type == WSMsgType.TEXT:
                    self._on_text(str(msg.data))
        finally:
            await self._unregister(ws)
        return ws

    def _hello(self) -> dict[str, Any]:
        return {
            "type": "hello",
            "num_connections": len(self._sockets),
            "debug_info": {
                "host": "applink-standin",
                "build_number": 1,
                "approximate_connection_time": 18060,
            },
            "connection_info": {"app_id": self.app_id},
        }

    async def _register(self, ws: web.WebSocketResponse) -> None:
        async with self._changed:
            self._sockets.append(ws)
            self._changed.notify_all()

    async def _unregister(self, ws: web.WebSocketResponse) -> None:
        async with self._changed:
            if ws in self._sockets:
                self._sockets.remove(ws)
            self._changed.notify_all()

    def _on_text(self, data: str) -> None:
        try:
            message = json.loads(data)
        except ValueError:
            logger.warning("Socket Mode client sent non-JSON text: %.200s", data)
            return
        if not isinstance(message, dict):
            return
        self.received.append(message)
        future = self._pending.pop(str(message.get("envelope_id")), None)
        if future is not None and not future.done():
            future.set_result(message)

    async def wait_connected(self, timeout: float = 5.0) -> None:
        """Wait until at least one client is connected (TimeoutError otherwise)."""
        async with asyncio.timeout(timeout), self._changed:
            await self._changed.wait_for(lambda: bool(self._sockets))

    async def send_envelope(
        self,
        type_: EnvelopeType,
        payload: dict[str, Any],
        *,
        timeout: float = 5.0,
        retry_attempt: int = 0,
        retry_reason: str = "",
    ) -> dict[str, Any]:
        """Push one envelope to the newest connection and return the app's ack message."""
        await self.wait_connected(timeout)
        envelope_id = str(uuid.uuid4())
        envelope: dict[str, Any] = {
            "envelope_id": envelope_id,
            "type": type_,
            "payload": payload,
            "accepts_response_payload": type_ != "events_api",
        }
        if type_ == "events_api":
            envelope["retry_attempt"] = retry_attempt
            envelope["retry_reason"] = retry_reason
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[envelope_id] = future
        try:
            await self._sockets[-1].send_json(envelope)
            async with asyncio.timeout(timeout):
                return await future
        finally:
            self._pending.pop(envelope_id, None)

    async def request_reconnect(self, reason: str = "refresh_requested") -> None:
        """Send Slack's ``disconnect`` message to every connected client."""
        message = {"type": "disconnect", "reason": reason, "debug_info": {"host": "standin"}}
        for ws in list(self._sockets):
            await ws.send_json(message)

    async def close(self) -> None:
        """Close every connection (the server is going away)."""
        for ws in list(self._sockets):
            await ws.close(code=1001, message=b"server shutdown")
