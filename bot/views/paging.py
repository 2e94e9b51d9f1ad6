"""Lists in Slack, a page at a time: whole entries within Slack's block limit, the true total,
and a control to go on. Every list a person sees goes through `page`.

Slack allows at most 50 blocks in a message and 100 in a modal or App Home view
(https://docs.slack.dev/reference/block-kit/blocks); a list longer than that is cut by Slack
(or refused), so an entry's buttons could end up missing. Here an entry is never cut.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from bot.views.common import Block, actions, button, context, divider, plural

MESSAGE_BLOCKS = 50
VIEW_BLOCKS = 100


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
) -> list[Block]:
    """`head`, then as many of `entries` (the candidates from `offset` on, each a few
    blocks) as fit whole in `limit` blocks, each after a divider; when the list does not
    fit, "Showing 13–24 of 30 prompts" and buttons whose value is the offset to show next
    ("Next", and "First page" after the first). `noun` is (singular, plural); `divided`
    False puts no divider between entries (one-line entries); `value` makes a button's value
    from its offset, for lists that must carry more (a search's words)."""
    room = limit - len(head) - 2  # the control: a context and an actions block
    blocks = list(head)
    shown = 0
    for entry in entries:
        needed = len(entry) + (1 if divided else 0)
        if needed > room:
            break
        blocks += [divider(), *entry] if divided else list(entry)
        room -= needed
        shown += 1
    end = offset + shown
    if end < total or offset > 0:
        what = plural(total, *noun)
        blocks.append(context(f"Showing {offset + 1}–{end} of {what}"))
        controls = []
        if end < total:
            controls.append(button(f"Next {min(shown or 1, total - end)}", action_id, value(end)))
        if offset > 0:
            controls.append(button("First page", action_id, value(0)))
        blocks.append(actions(*controls))
    return blocks


def offset_of(value: str | None) -> int:
    """The offset a paging button carries (0 for anything else)."""
    return int(value) if value and value.isdigit() else 0
