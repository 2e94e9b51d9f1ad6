"""Block Kit building blocks as plain dicts: escaping, size limits, small constructors.

Plain dicts rather than `slack_sdk.models`: the models validate on every `to_dict()`,
which cost two thirds of a reply's rendering time. Limits are kept here by clipping,
and the Slack stand-in enforces Block Kit's limits on everything the tests send.
"""

from __future__ import annotations

from typing import Any

Block = dict[str, Any]
SECTION_TEXT_MAX = 3000
BUTTON_VALUE_MAX = 2000
HEADER_MAX = 150
BUTTON_TEXT_MAX = 75


def escape(text: str) -> str:
    """Escape user text for mrkdwn: `<!channel>` or `<@U1>` can never ping or forge anyone."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def mrkdwn(text: str, limit: int = SECTION_TEXT_MAX) -> dict[str, str]:
    return {"type": "mrkdwn", "text": clip(text, limit)}


def plain(text: str, limit: int) -> dict[str, Any]:
    return {"type": "plain_text", "text": clip(text, limit), "emoji": True}


def section(text: str) -> Block:
    return {"type": "section", "text": mrkdwn(text)}


def sections(lines: list[str]) -> list[Block]:
    """`lines` as few sections as Block Kit's 3,000-character limit allows, never cutting
    a line in two (a line longer than a section is clipped)."""
    found: list[Block] = []
    chunk = ""
    for line in lines:
        if chunk and len(chunk) + 1 + len(line) > SECTION_TEXT_MAX:
            found.append(section(chunk))
            chunk = ""
        chunk = f"{chunk}\n{line}" if chunk else line
    if chunk:
        found.append(section(chunk))
    return found


def header(text: str) -> Block:
    return {"type": "header", "text": plain(text, HEADER_MAX)}


def context(*texts: str) -> Block:
    return {"type": "context", "elements": [mrkdwn(t, 2000) for t in texts[:10]]}


def divider() -> Block:
    return {"type": "divider"}


def button(text: str, action_id: str, value: str, *, style: str | None = None) -> Block:
    element: Block = {
        "type": "button",
        "text": plain(text, BUTTON_TEXT_MAX),
        "action_id": action_id,
        "value": clip(value, BUTTON_VALUE_MAX) or " ",
    }
    if style:
        element["style"] = style
    return element


def actions(*elements: Block) -> Block:
    return {"type": "actions", "elements": list(elements[:25])}


def ephemeral_text(message: str) -> dict[str, Any]:
    """A plain ephemeral reply (the shape `ack()` and `respond()` take)."""
    return {"response_type": "ephemeral", "text": message, "blocks": [section(message)]}


def followup(message: dict[str, Any]) -> dict[str, Any]:
    """A reply sent through `response_url` that adds a message instead of replacing one."""
    return {**message, "replace_original": False}


def sentence(text: str) -> str:
    """`text` with a capital first letter, the rest as written (it may quote the asker)."""
    return text[:1].upper() + text[1:]


def plural(count: int, noun: str, many: str | None = None) -> str:
    """`count` with its noun: "1 champion", "2 champions", "1 person" / "3 people"
    (`many` for an irregular plural); counts over 999 get thousands separators."""
    return f"{count:,} {noun if count == 1 else (many or noun + 's')}"


def loading_view(title: str) -> dict[str, Any]:
    """The modal that opens at once from a trigger while the real one is built."""
    return {
        "type": "modal",
        "title": plain(title, 24),
        "close": plain("Cancel", 24),
        "blocks": [section(":hourglass_flowing_sand: Loading…")],
    }


def notice_view(title: str, text: str) -> dict[str, Any]:
    """A modal that only says something (why the real one cannot be shown)."""
    return {
        "type": "modal",
        "title": plain(title, 24),
        "close": plain("Close", 24),
        "blocks": [section(escape(text))],
    }
