"""App Home: published when a person opens the tab (publishing again is harmless)."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.deps import Deps
from bot.services import home
from bot.services.policy import review_status
from bot.views.home import home_view


def register(app: AsyncApp, deps: Deps) -> None:
    @app.event("app_home_opened")
    async def opened(ack: AsyncAck, event: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        if event.get("tab", "home") == "home":
            deps.background.spawn(publish(deps, client, event["user"]), name="app-home")


async def publish(deps: Deps, client: AsyncWebClient, user_id: str) -> None:
    now = deps.clock()
    is_admin = await deps.admins.is_admin(user_id)
    async with deps.sessions() as session:
        personal = await home.personal(session=session, user_id=user_id, now=now)
        admin = await home.admin(session=session) if is_admin else None
    active = deps.policy.active
    view = home_view(
        personal,
        now=now,
        admin=admin,
        review=review_status(active, now.date()) if is_admin else None,
        policy_name=active.loaded.pack.metadata.name,
    )
    await client.views_publish(user_id=user_id, view=view)
