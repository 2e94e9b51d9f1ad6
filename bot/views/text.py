"""Block Kit as readable text, for `coe-bot try` and for people reading logs of replies."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

_LINK = re.compile(r"<(https?://[^|>]+)\|([^>]+)>")
_MENTION = re.compile(r"<@([A-Z0-9]+)(?:\|[^>]*)?>")
_CHANNEL = re.compile(r"<#([A-Z0-9]+)(?:\|([^>]*))?>")
_GROUP = re.compile(r"<!subteam\^([A-Z0-9]+)(?:\|([^>]*))?>")


def unescape(text: str) -> str:
    text = _LINK.sub(r"\2 (\1)", text)
    text = _MENTION.sub(r"@\1", text)
    text = _CHANNEL.sub(lambda m: f"#{m[2] or m[1]}", text)
    text = _GROUP.sub(lambda m: m[2] or f"@{m[1]}", text)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _text(obj: Any) -> str:
    if isinstance(obj, dict):
        return unescape(str(obj.get("text", "")))
    return unescape(str(obj or ""))


def render_blocks(blocks: Iterable[dict[str, Any]]) -> str:
    """One block after another; buttons as `[ Label ]`, context lines dimmed with `│`."""
    lines: list[str] = []
    for block in blocks:
        kind = block.get("type")
        if kind == "header":
            title = _text(block.get("text"))
            lines += [title, "=" * min(len(title), 72)]
        elif kind == "section":
            if block.get("text"):
                lines.append(_text(block["text"]))
            lines += [_text(f) for f in block.get("fields", [])]
            if block.get("accessory", {}).get("type") == "button":
                lines.append(_button(block["accessory"]))
        elif kind == "context":
            lines += [f"│ {_text(e)}" for e in block.get("elements", []) if "text" in e]
        elif kind == "actions":
            lines.append("  ".join(_button(e) for e in block.get("elements", [])))
        elif kind == "divider":
            lines.append("─" * 40)
        elif kind == "input":
            lines.append(f"{_text(block.get('label'))}: ____")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def _button(element: dict[str, Any]) -> str:
    return f"[ {_text(element.get('text'))} ]"


def render_message(message: dict[str, Any]) -> str:
    """A reply as text: its blocks, or its plain text when it has none."""
    blocks = message.get("blocks")
    if blocks:
        return render_blocks(blocks)
    return unescape(str(message.get("text", ""))) + "\n"
