"""Shared helpers for Block Kit builders: escaping and size limits."""

from __future__ import annotations

from typing import Any

from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    MarkdownTextObject,
    SectionBlock,
)

SECTION_TEXT_MAX = 3000
BUTTON_VALUE_MAX = 2000


def escape(text: str) -> str:
    """Escape user text for mrkdwn: `<!channel>` or `<@U1>` can never ping or forge anyone."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def section(text: str) -> SectionBlock:
    return SectionBlock(text=MarkdownTextObject(text=clip(text, SECTION_TEXT_MAX)))


def context(*texts: str) -> ContextBlock:
    return ContextBlock(elements=[MarkdownTextObject(text=clip(t, 2000)) for t in texts[:10]])


def to_dicts(blocks: list[Block]) -> list[dict[str, Any]]:
    return [b.to_dict() for b in blocks]


def ephemeral_text(message: str) -> dict[str, Any]:
    """A plain ephemeral reply (the shape `ack()` and `respond()` take)."""
    return {
        "response_type": "ephemeral",
        "text": message,
        "blocks": to_dicts([section(message)]),
    }


def followup(message: dict[str, Any]) -> dict[str, Any]:
    """A reply sent through `response_url` that adds a message instead of replacing one."""
    return {**message, "replace_original": False}
