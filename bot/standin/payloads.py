"""Request bodies as Slack builds them: slash commands, interactions, Events API callbacks.

`Payloads` knows the workspace identity (team, app, verification token) and, given a
`FakeSlack`, takes response_urls and trigger_ids from it. The same payloads serve HTTP
(`SlackSender`) and Socket Mode (`FakeSlack.send_envelope`).
"""

from __future__ import annotations

import secrets
import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .webapi import FakeSlack


class Payloads:
    """Builds the bodies Slack sends to an app."""

    def __init__(
        self,
        *,
        slack: FakeSlack | None = None,
        team_id: str = "T0STANDIN",
        api_app_id: str = "A0STANDIN",
        team_domain: str = "standin",
        verification_token: str = "standin-verification-token",
    ) -> None:
        self.slack = slack
        self.team_id = team_id
        self.api_app_id = api_app_id
        self.team_domain = team_domain
        self.verification_token = verification_token

    def _user_name(self, user_id: str) -> str:
        user = self.slack.workspace.users.get(user_id) if self.slack is not None else None
        return user.name if user is not None else user_id.removeprefix("U0").lower()

    def _channel_name(self, channel_id: str) -> str:
        if channel_id.startswith("D"):
            return "directmessage"
        channel = self.slack.workspace.channels.get(channel_id) if self.slack else None
        return channel.name if channel is not None else channel_id.lower()

    def _user(self, user_id: str) -> dict[str, Any]:
        name = self._user_name(user_id)
        return {"id": user_id, "username": name, "name": name, "team_id": self.team_id}

    def _team(self) -> dict[str, Any]:
        return {"id": self.team_id, "domain": self.team_domain}

    def _trigger_id(self) -> str:
        if self.slack is not None:
            return self.slack.new_trigger_id()
        return f"{secrets.randbelow(10**11)}.{secrets.randbelow(10**9)}.{secrets.token_hex(16)}"

    def _response_url(self, kind: str) -> str:
        if self.slack is not None:
            return self.slack.new_response_url()
        return f"https://hooks.slack.com/{kind}/{self.team_id}/1/{secrets.token_hex(12)}"

    def command_payload(
        self,
        command: str,
        text: str = "",
        *,
        user_id: str = "U0ALICE",
        channel_id: str = "C0GENERAL",
        trigger_id: str | None = None,
        response_url: str | None = None,
    ) -> dict[str, str]:
        """The fields of a slash command (also the Socket Mode `slash_commands` payload)."""
        return {
            "token": self.verification_token,
            "team_id": self.team_id,
            "team_domain": self.team_domain,
            "channel_id": channel_id,
            "channel_name": self._channel_name(channel_id),
            "user_id": user_id,
            "user_name": self._user_name(user_id),
            "command": command,
            "text": text,
            "api_app_id": self.api_app_id,
            "is_enterprise_install": "false",
            "response_url": response_url or self._response_url("commands"),
            "trigger_id": trigger_id or self._trigger_id(),
        }

    def block_action_payload(
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
    ) -> dict[str, Any]:
        now = f"{time.time():.6f}"
        action: dict[str, Any] = {
            "action_id": action_id,
            "block_id": block_id,
            "type": action_type,
            "action_ts": now,
            "text": {"type": "plain_text", "text": text, "emoji": True},
        }
        if value is not None:
            action["value"] = value
        payload: dict[str, Any] = {
            "type": "block_actions",
            "user": self._user(user_id),
            "api_app_id": self.api_app_id,
            "token": self.verification_token,
            "trigger_id": self._trigger_id(),
            "team": self._team(),
            "enterprise": None,
            "is_enterprise_install": False,
            "state": {"values": {}},
            "actions": [action],
        }
        if view is not None:
            payload["container"] = {"type": "view", "view_id": view.get("id", "")}
            payload["view"] = view
            return payload
        msg = message or {"type": "message", "ts": now, "text": "", "blocks": []}
        payload["container"] = {
            "type": "message",
            "message_ts": msg.get("ts", now),
            "channel_id": channel_id,
            "is_ephemeral": False,
        }
        payload["channel"] = {"id": channel_id, "name": self._channel_name(channel_id)}
        payload["message"] = msg
        payload["response_url"] = response_url or self._response_url("actions")
        return payload

    def view_submission_payload(
        self,
        callback_id: str,
        values: dict[str, Any],
        *,
        user_id: str = "U0ALICE",
        private_metadata: str = "",
        view_id: str | None = None,
    ) -> dict[str, Any]:
        base = self.slack.workspace.views.get(view_id or "") if self.slack else None
        vid = view_id or "V" + secrets.token_hex(5).upper()
        view: dict[str, Any] = {
            "id": vid,
            "team_id": self.team_id,
            "type": "modal",
            "blocks": [],
            "title": {"type": "plain_text", "text": "Modal"},
            "close": None,
            "submit": {"type": "plain_text", "text": "Submit"},
            "clear_on_close": False,
            "notify_on_close": False,
            "previous_view_id": None,
            "root_view_id": vid,
            "app_id": self.api_app_id,
            "external_id": "",
            "app_installed_team_id": self.team_id,
            "bot_id": "B0BOT",
            **(base or {}),
        }
        view.update(callback_id=callback_id, private_metadata=private_metadata)
        view.update(state={"values": values}, hash=f"{int(time.time())}.{secrets.token_hex(4)}")
        return {
            "type": "view_submission",
            "team": self._team(),
            "user": self._user(user_id),
            "api_app_id": self.api_app_id,
            "token": self.verification_token,
            "trigger_id": self._trigger_id(),
            "view": view,
            "response_urls": [],
            "is_enterprise_install": False,
            "enterprise": None,
        }

    def event_body(self, event: dict[str, Any], *, event_id: str | None = None) -> dict[str, Any]:
        bot_user_id = self.slack.bot_user_id if self.slack is not None else "U0BOT"
        return {
            "token": self.verification_token,
            "team_id": self.team_id,
            "api_app_id": self.api_app_id,
            "event": event,
            "type": "event_callback",
            "event_id": event_id or "Ev" + secrets.token_hex(5).upper(),
            "event_time": int(time.time()),
            "authorizations": [
                {
                    "enterprise_id": None,
                    "team_id": self.team_id,
                    "user_id": bot_user_id,
                    "is_bot": True,
                    "is_enterprise_install": False,
                }
            ],
            "is_ext_shared_channel": False,
            "event_context": "4-" + secrets.token_urlsafe(24),
        }
