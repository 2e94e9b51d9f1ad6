"""Lists in Slack, a page at a time: whole entries within Slack's block limit, the true total,
and a control to go on. Every list a person sees goes through `page`.

Slack allows at most 50 blocks in a message and 100 in a modal or App Home view
(https://docs.slack.dev/reference/block-kit/blocks); a list longer than that is cut by Slack
(or refused), so an entry's buttons could end up missing. Slack also refuses a message whose
blocks pass roughly 12,000–13,000 characters (`msg_blocks_too_long`, undocumented: see
`bot.standin.blockkit`), and escaped text (`&amp;`) grows fast, so a page also stops at
`MESSAGE_CHARS`. Here an entry is never cut. An action_id must be unique within its block
(https://docs.slack.dev/reference/block-kit/block-elements/button-element): "Next" and
"First page" share one, so each has its own actions block.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence

from bot.views.common import Block, actions, button, context, divider, plural

MESSAGE_BLOCKS = 50
VIEW_BLOCKS = 100
MESSAGE_CHARS = 11_000  # serialised blocks; Slack refuses from about 12,000
MAX_OFFSET = 1_000_000  # a forged button value cannot ask the database for more


def page(
    head: Sequence[Block],
    entries: Sequence[Sequence[Block]],
    *,
    total: int,
    offset: int,
    action_id: str,
    noun: tuple[str, str],
    limit: int = MESSAGE_BLOCKS,
    divided: bool = True,
    value: Callable[[int], str] = str,
    max_chars: int = MESSAGE_CHARS,
) -> list[Block]:
    """`head`, then as many of `entries` (the candidates from `offset` on, each a few
    blocks) as fit whole in `limit` blocks, each after a divider; when the list does not
    fit, "Showing 13–24 of 30 prompts" and buttons whose value is the offset to show next
    ("Next", and "First page" after the first), all within `limit` blocks and `max_chars`
    serialised characters (the first entry is always shown, so a page always moves on).
    `noun` is (singular, plural); `divided`
    False puts no divider between entries (one-line entries); `value` makes a button's value
    from its offset, for lists that must carry more (a search's words)."""
    room = limit - len(head) - 3  # the control: a context and up to two actions blocks
    chars = max_chars - _size(head) - 600
    blocks = list(head)
    shown = 0
    for entry in entries:
        added = [divider(), *entry] if divided else list(entry)
        size = _size(added)
        if len(added) > room or (shown and size > chars):
            break
        blocks += added
        room -= len(added)
        chars -= size
        shown += 1
    end = offset + shown
    if end < total or offset > 0:
        what = plural(total, *noun)
        blocks.append(context(f"Showing {offset + 1:,}–{end:,} of {what}"))
        if end < total:
            blocks.append(
                actions(button(f"Next {min(shown or 1, total - end)}", action_id, value(end)))
            )
        if offset > 0:
            blocks.append(actions(button("First page", action_id, value(0))))
    return blocks


def _size(blocks: Sequence[Block]) -> int:
    return len(json.dumps(blocks, separators=(",", ":"), ensure_ascii=False)) + len(blocks)


def offset_of(value: str | None) -> int:
    """The offset a paging button carries: 0 for anything else, at most `MAX_OFFSET`."""
    if not value or not value.isascii() or not value.isdigit():
        return 0
    return min(int(value[:8]), MAX_OFFSET)
