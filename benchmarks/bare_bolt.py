"""The baseline: a bare Bolt app on aiohttp whose `/ai-policy` and `/prompts` only ack.

Run as `python -m benchmarks.bare_bolt PORT API_URL TOKEN SECRET [inline]`. Bolt's default
acks from a task it polls every 10 ms; `inline` sets `process_before_response=True`,
which coe-bot uses, so the two baselines bracket the framework's own cost.
"""

from __future__ import annotations

import logging
import sys

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient


def main() -> None:
    port, api_url, token, secret = sys.argv[1:5]
    inline = sys.argv[5:6] == ["inline"]
    logging.basicConfig(level=logging.WARNING)
    app = AsyncApp(
        client=AsyncWebClient(token=token, base_url=api_url),
        signing_secret=secret,
        process_before_response=inline,
    )

    @app.command("/ai-policy")
    async def ack_policy(ack: AsyncAck) -> None:
        await ack()

    @app.command("/prompts")
    async def ack_prompts(ack: AsyncAck) -> None:
        await ack()

    app.start(port=int(port), path="/slack/events", host="127.0.0.1")


if __name__ == "__main__":
    main()
