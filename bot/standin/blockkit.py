"""Block Kit limit checks, as Slack applies them to messages, modals and the Home tab.

Every check is pure: it takes the JSON the app sent and returns the problems in Slack's
own wording (``must be less than 51 items [json-pointer:/blocks]``), so a stand-in answer
can quote them the way Slack does in ``errors`` / ``response_metadata.messages``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Literal

Surface = Literal["message", "modal", "home"]

MAX_BLOCKS: dict[str, int] = {"message": 50, "modal": 100, "home": 100}
MESSAGE_TEXT_MAX = 40_000  # documented: chat.postMessage `text` is truncated past 40,000
# Not documented: Slack answers `msg_blocks_too_long` when a message's blocks, serialised,
# pass roughly this many characters (reported by app developers between 12,000 and 13,200).
# The app keeps growing replies under 11,000 (views/paging.MESSAGE_CHARS).
MESSAGE_BLOCKS_MAX_CHARS = 13_000
BLOCK_TYPES = frozenset(
    {
        "actions",
        "call",
        "context",
        "context_actions",
        "divider",
        "file",
        "header",
        "image",
        "input",
        "markdown",
        "rich_text",
        "section",
        "table",
        "video",
    }
)
TEXT_TYPES = frozenset({"plain_text", "mrkdwn"})
# Options allowed per element type (Slack's documented maxima).
OPTION_LIMITS: dict[str, int] = {
    "static_select": 100,
    "multi_static_select": 100,
    "overflow": 5,
    "checkboxes": 10,
    "radio_buttons": 10,
}


class _Checker:
    """Collects problems while walking a JSON document."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    def add(self, message: str, pointer: str) -> None:
        self.problems.append(f"{message} [json-pointer:{pointer}]")

    def max_len(self, value: object, limit: int, pointer: str) -> None:
        if isinstance(value, str) and len(value) > limit:
            self.add(f"must be less than {limit + 1} characters", pointer)

    def max_items(self, items: object, limit: int, pointer: str) -> bool:
        """Check a list's length; False when `items` is not a list at all."""
        if not isinstance(items, list):
            self.add("must be an array", pointer)
            return False
        if len(items) > limit:
            self.add(f"must be less than {limit + 1} items", pointer)
        return True

    def text(self, obj: object, limit: int, pointer: str, *, plain_only: bool = False) -> None:
        """A composition text object: {"type": "plain_text"|"mrkdwn", "text": ...}."""
        if not isinstance(obj, Mapping):
            self.add("must be an object", pointer)
            return
        allowed = {"plain_text"} if plain_only else TEXT_TYPES
        if obj.get("type") not in allowed:
            self.add("must be a valid enum value", f"{pointer}/type")
        value = obj.get("text")
        if not isinstance(value, str) or not value:
            self.add("must be more than 0 characters", f"{pointer}/text")
            return
        self.max_len(value, limit, f"{pointer}/text")

    def optional_text(self, obj: Mapping[str, Any], key: str, limit: int, pointer: str) -> None:
        if obj.get(key) is not None:
            self.text(obj[key], limit, f"{pointer}/{key}")


def _check_option(c: _Checker, option: object, pointer: str) -> None:
    if not isinstance(option, Mapping):
        c.add("must be an object", pointer)
        return
    c.text(option.get("text"), 75, f"{pointer}/text")
    c.max_len(option.get("value"), 150, f"{pointer}/value")
    c.optional_text(option, "description", 75, pointer)


def _check_options(c: _Checker, element: Mapping[str, Any], pointer: str) -> None:
    limit = OPTION_LIMITS.get(str(element.get("type")), 100)
    if "options" in element and c.max_items(element["options"], limit, f"{pointer}/options"):
        for i, option in enumerate(element["options"]):
            _check_option(c, option, f"{pointer}/options/{i}")
    groups = element.get("option_groups")
    if groups is not None and c.max_items(groups, 100, f"{pointer}/option_groups"):
        for g, group in enumerate(groups):
            gp = f"{pointer}/option_groups/{g}"
            if not isinstance(group, Mapping):
                c.add("must be an object", gp)
                continue
            c.text(group.get("label"), 75, f"{gp}/label", plain_only=True)
            if c.max_items(group.get("options"), 100, f"{gp}/options"):
                for i, option in enumerate(group["options"]):
                    _check_option(c, option, f"{gp}/options/{i}")


def _check_confirm(c: _Checker, confirm: object, pointer: str) -> None:
    if not isinstance(confirm, Mapping):
        c.add("must be an object", pointer)
        return
    c.text(confirm.get("title"), 100, f"{pointer}/title", plain_only=True)
    c.text(confirm.get("text"), 300, f"{pointer}/text")
    c.text(confirm.get("confirm"), 30, f"{pointer}/confirm", plain_only=True)
    c.text(confirm.get("deny"), 30, f"{pointer}/deny", plain_only=True)


def _check_element(c: _Checker, element: object, pointer: str) -> None:
    if not isinstance(element, Mapping):
        c.add("must be an object", pointer)
        return
    kind = element.get("type")
    if not isinstance(kind, str):
        c.add("missing required field: type", pointer)
        return
    c.max_len(element.get("action_id"), 255, f"{pointer}/action_id")
    if kind == "button":
        c.text(element.get("text"), 75, f"{pointer}/text", plain_only=True)
        c.max_len(element.get("value"), 2000, f"{pointer}/value")
        c.max_len(element.get("url"), 3000, f"{pointer}/url")
    if kind in OPTION_LIMITS or "options" in element or "option_groups" in element:
        _check_options(c, element, pointer)
    if element.get("placeholder") is not None:
        c.text(element["placeholder"], 150, f"{pointer}/placeholder", plain_only=True)
    if element.get("confirm") is not None:
        _check_confirm(c, element["confirm"], f"{pointer}/confirm")


def _check_section(c: _Checker, block: Mapping[str, Any], pointer: str) -> None:
    if block.get("text") is None and block.get("fields") is None:
        c.add("must provide either text or fields", pointer)
    if block.get("text") is not None:
        c.text(block["text"], 3000, f"{pointer}/text")
    fields = block.get("fields")
    if fields is not None and c.max_items(fields, 10, f"{pointer}/fields"):
        for i, item in enumerate(fields):
            c.text(item, 2000, f"{pointer}/fields/{i}")
    if block.get("accessory") is not None:
        _check_element(c, block["accessory"], f"{pointer}/accessory")


def _check_elements(c: _Checker, block: Mapping[str, Any], limit: int, pointer: str) -> None:
    elements = block.get("elements")
    if not c.max_items(elements, limit, f"{pointer}/elements"):
        return
    assert isinstance(elements, list)
    if not elements:
        c.add("must be more than 0 items", f"{pointer}/elements")
    action_ids: list[str] = []
    for i, element in enumerate(elements):
        if isinstance(element, Mapping) and element.get("type") in TEXT_TYPES:
            c.text(element, 3000, f"{pointer}/elements/{i}")  # a context's text object
            continue
        _check_element(c, element, f"{pointer}/elements/{i}")
        if isinstance(element, Mapping) and isinstance(element.get("action_id"), str):
            action_ids.append(element["action_id"])
    # "unique among all other action_ids in the containing block" (button element docs)
    repeated = sorted({a for a in action_ids if action_ids.count(a) > 1})
    if repeated:
        c.add(f"duplicate action_id {repeated}", pointer)


def _check_input(c: _Checker, block: Mapping[str, Any], pointer: str) -> None:
    c.text(block.get("label"), 2000, f"{pointer}/label", plain_only=True)
    c.optional_text(block, "hint", 2000, pointer)
    element = block.get("element")
    if element is None:
        c.add("missing required field: element", pointer)
        return
    _check_element(c, element, f"{pointer}/element")
    if isinstance(element, Mapping) and element.get("type") == "plain_text_input":
        longest = element.get("max_length")  # "Maximum length of 3000 characters"
        if isinstance(longest, int) and not 1 <= longest <= 3000:
            c.add("must be between 1 and 3000", f"{pointer}/element/max_length")


def _check_block(c: _Checker, block: object, pointer: str) -> None:
    if not isinstance(block, Mapping):
        c.add("must be an object", pointer)
        return
    kind = block.get("type")
    if kind not in BLOCK_TYPES:
        c.add("must be a valid enum value", f"{pointer}/type")
        return
    c.max_len(block.get("block_id"), 255, f"{pointer}/block_id")
    if kind == "section":
        _check_section(c, block, pointer)
    elif kind == "header":
        c.text(block.get("text"), 150, f"{pointer}/text", plain_only=True)
    elif kind == "actions":
        _check_elements(c, block, 25, pointer)
    elif kind == "context":
        _check_elements(c, block, 10, pointer)
    elif kind == "input":
        _check_input(c, block, pointer)
    elif kind == "image":
        c.max_len(block.get("image_url"), 3000, f"{pointer}/image_url")
        c.max_len(block.get("alt_text"), 2000, f"{pointer}/alt_text")
    elif kind == "markdown":
        c.max_len(block.get("text"), 12_000, f"{pointer}/text")


def validate_blocks(
    blocks: object, *, surface: Surface = "message", pointer: str = "/blocks"
) -> list[str]:
    """Return the problems Slack would report for `blocks` on `surface` (empty: valid)."""
    c = _Checker()
    if not c.max_items(blocks, MAX_BLOCKS[surface], pointer):
        return c.problems
    assert isinstance(blocks, list)
    block_ids: set[str] = set()
    for i, block in enumerate(blocks):
        _check_block(c, block, f"{pointer}/{i}")
        block_id = block.get("block_id") if isinstance(block, Mapping) else None
        if isinstance(block_id, str):  # "unique for each message and each iteration of a
            if block_id in block_ids:  # message" (Block Kit reference, block_id)
                c.add(f"duplicate block_id {block_id!r}", f"{pointer}/{i}/block_id")
            block_ids.add(block_id)
    return c.problems


def _has_input(blocks: object) -> bool:
    return isinstance(blocks, list) and any(
        isinstance(b, Mapping) and b.get("type") == "input" for b in blocks
    )


def validate_view(view: object) -> list[str]:
    """Return the problems Slack would report for a modal or Home tab `view`."""
    c = _Checker()
    if not isinstance(view, Mapping):
        c.add("must be an object", "/view")
        return c.problems
    kind = view.get("type")
    if kind not in ("modal", "home"):
        c.add("must be a valid enum value", "/view/type")
        return c.problems
    if kind == "modal":
        c.text(view.get("title"), 24, "/view/title", plain_only=True)
        for key in ("submit", "close"):
            if view.get(key) is not None:
                c.text(view[key], 24, f"/view/{key}", plain_only=True)
        if view.get("submit") is None and _has_input(view.get("blocks")):
            c.add("must provide a submit when the view contains input blocks", "/view/submit")
    c.max_len(view.get("private_metadata"), 3000, "/view/private_metadata")
    c.max_len(view.get("callback_id"), 255, "/view/callback_id")
    c.max_len(view.get("external_id"), 255, "/view/external_id")
    surface: Surface = "modal" if kind == "modal" else "home"
    c.problems.extend(
        validate_blocks(view.get("blocks", []), surface=surface, pointer="/view/blocks")
    )
    return c.problems


def blocks_size(blocks: object) -> int:
    """Characters of `blocks` serialised compactly, as Slack counts them."""
    return len(json.dumps(blocks, separators=(",", ":"), ensure_ascii=False))


def check_message(text: object, blocks: object) -> tuple[str, list[str]] | None:
    """The error a message-posting method answers for `text`/`blocks`, with its details."""
    if isinstance(text, str) and len(text) > MESSAGE_TEXT_MAX:
        return "msg_too_long", []
    if blocks is None:
        return None
    problems = validate_blocks(blocks, surface="message")
    if problems:
        return "invalid_blocks", problems
    if blocks_size(blocks) > MESSAGE_BLOCKS_MAX_CHARS:
        return "msg_blocks_too_long", []
    return None
