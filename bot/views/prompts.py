"""Block Kit for `/prompts`: result cards, the full prompt, the add/edit modal, lists."""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Any

from bot.models import Prompt
from bot.services.prompt_search import RANKED_POOL, SearchPage
from bot.views.common import (
    Block,
    actions,
    button,
    clip,
    context,
    escape,
    header,
    plain,
    plural,
    section,
)
from bot.views.paging import page


class PromptActions(StrEnum):
    use = "prompt-use"
    helpful = "prompt-helpful"
    share = "prompt-share"
    report = "prompt-report"
    more = "prompt-more"
    edit = "prompt-edit"
    delete = "prompt-delete"
    review_publish = "prompt-review-publish"
    review_hide = "prompt-review-hide"
    review_delete = "prompt-review-delete"
    mine_page = "prompt-mine-page"
    review_page = "prompt-review-page"


class PromptModal(StrEnum):
    callback = "prompt-modal"
    heading = "title"
    body = "body"
    body_more = "body_more"
    body_rest = "body_rest"
    tags = "tags"
    stack = "stack"
    use_case = "use_case"
    tool = "tool"
    confirm = "confirm"


INPUT_MAX = 3000  # Slack's limit for one plain_text_input; longer prompts span three inputs
CONFIRM_EXAMPLE_DATA = "example-data"
HELP = (
    "*`/prompts`* — the shared prompt library.\n"
    "• `/prompts flaky tests` — search (typos are fine); `tag:python` filters by tag\n"
    "• `/prompts` or `/prompts top` — the most helpful prompts, this week and all time\n"
    "• `/prompts add` — add a prompt (checked for secrets and personal data)\n"
    "• `/prompts mine` — your prompts, to edit or delete\n"
    "On a result: *Use* shows the whole prompt to copy, *Helpful* marks it (again to undo), "
    "*Share* posts it in the channel, *Report* flags it for the CoE."
)


def _reply(blocks: list[Block], text: str) -> dict[str, Any]:
    return {"response_type": "ephemeral", "text": text, "blocks": blocks[:50]}


def help_message() -> dict[str, Any]:
    return _reply([section(HELP)], "How to use /prompts")


def _stats(prompt: Prompt) -> str:
    tags = " ".join(f"`{escape(t)}`" for t in prompt.tags[:6])
    people = "person" if prompt.user_count == 1 else "people"
    parts = [
        f"by <@{prompt.author_id}>",
        f":thumbsup: {prompt.helpful_count} helpful",
        f"used by {prompt.user_count} {people}",
    ]
    if prompt.stack:
        parts.append(escape(prompt.stack))
    return " · ".join(parts) + (f" · {tags}" if tags else "")


def _preview(body: str, lines: int = 3) -> str:
    first = [line for line in body.splitlines() if line.strip()][:lines]
    return clip(escape("\n".join(first)), 300)


def card(prompt: Prompt, *, with_buttons: bool = True) -> list[Block]:
    value = str(prompt.id)
    blocks: list[Block] = [
        section(f"*{escape(prompt.title)}*\n{_preview(prompt.body)}"),
        context(_stats(prompt)),
    ]
    if with_buttons:
        blocks.append(
            actions(
                button("Use", PromptActions.use.value, value, style="primary"),
                button("Helpful", PromptActions.helpful.value, value),
                button("Share in channel", PromptActions.share.value, value),
                button("Report", PromptActions.report.value, value),
            )
        )
    return blocks


def results_message(query: str, found: SearchPage, offset: int) -> dict[str, Any]:
    shown = escape(clip(query, 200))
    if not found.prompts:
        return _reply(
            [
                section(f"No prompts match *{shown}*."),
                context("Try fewer words, `/prompts top`, or add yours with `/prompts add`."),
            ],
            "No prompts found",
        )
    total = max(found.total, offset + len(found.prompts))
    head: list[Block] = [section(f"Prompts for *{shown}* ({_at_most(total)})")]
    if found.corrections:
        fixed = ", ".join(f"“{escape(a)}” → “{escape(b)}”" for a, b in found.corrections.items())
        head.append(context(f"Showing results for: {fixed}"))
    if total > RANKED_POOL:
        head.append(context(f"The {RANKED_POOL:,} most helpful are listed: add words to narrow."))
    blocks = page(
        head,
        [card(prompt) for prompt in found.prompts],
        total=min(total, RANKED_POOL),
        offset=offset,
        action_id=PromptActions.more.value,
        noun=("prompt", "prompts"),
        value=lambda at: json.dumps({"q": query[:1500], "o": at}),
    )
    return _reply(blocks, f"{_at_most(total)} for {escape(query[:100])}")


def _at_most(total: int) -> str:
    """ "12 prompts", or "more than 1,000 prompts" past what a search counts."""
    if total > RANKED_POOL:
        return f"more than {RANKED_POOL:,} prompts"
    return plural(total, "prompt")


def top_message(this_week: list[Prompt], all_time: list[Prompt]) -> dict[str, Any]:
    if not this_week and not all_time:
        return _reply(
            [
                section(
                    "No one has used a prompt yet. Search with `/prompts <words>`, or share one"
                    " with `/prompts add`."
                )
            ],
            "No top prompts yet",
        )
    blocks: list[Block] = []
    for title, prompts in (("This week", this_week), ("All time", all_time)):
        if prompts:
            blocks.append(header(f"Top prompts: {title.lower()}"))
            for prompt in prompts:
                blocks += card(prompt)
    blocks.append(context("Ranked by how many of the people who used a prompt found it helpful."))
    return _reply(blocks, "Top prompts")


def full_prompt_message(prompt: Prompt) -> dict[str, Any]:
    """The whole prompt, ready to copy: code blocks, split to respect section limits."""
    body = escape(prompt.body).replace("```", "`\u200b``")
    chunks = [body[i : i + 2900] for i in range(0, len(body), 2900)] or [""]
    blocks: list[Block] = [section(f"*{escape(prompt.title)}*")]
    blocks += [section(f"```{chunk}```") for chunk in chunks]
    meta = [f"by <@{prompt.author_id}>"]
    if prompt.tool:
        meta.append(f"tested with {escape(prompt.tool)}")
    if prompt.use_case:
        meta.append(escape(prompt.use_case))
    blocks.append(context(" · ".join(meta)))
    blocks.append(
        actions(button("Helpful", PromptActions.helpful.value, str(prompt.id), style="primary"))
    )
    return _reply(blocks, escape(prompt.title))


def shared_message(prompt: Prompt, user_id: str) -> dict[str, Any]:
    blocks = card(prompt, with_buttons=False)
    blocks.append(context(f"Shared by <@{user_id}> · find more with `/prompts`"))
    return {"response_type": "in_channel", "text": escape(prompt.title), "blocks": blocks}


def mine_message(
    prompts: list[Prompt], *, total: int | None = None, offset: int = 0, note: str = ""
) -> dict[str, Any]:
    """A person's prompts from `offset` (newest first), paged whole with the true `total`;
    `note` (mrkdwn) goes first, e.g. what was just deleted."""
    total = len(prompts) if total is None else total
    head = [section(note)] if note else []
    if not total:
        head.append(section("You haven't added a prompt yet: try `/prompts add`."))
        return _reply(head, "None yet")
    head.append(section(f"*Your prompts* ({total:,})"))
    entries = []
    for prompt in prompts:
        status = "" if prompt.status == "published" else f" _({prompt.status})_"
        entries.append(
            [
                section(f"*{escape(prompt.title)}*{status}\n{_preview(prompt.body, 2)}"),
                context(_stats(prompt)),
                actions(
                    button("Edit", PromptActions.edit.value, str(prompt.id)),
                    _delete_button(prompt),
                ),
            ]
        )
    blocks = page(
        head,
        entries,
        total=total,
        offset=offset,
        action_id=PromptActions.mine_page.value,
        noun=("prompt", "prompts"),
    )
    return _reply(blocks, "Your prompts")


def _delete_button(prompt: Prompt) -> Block:
    element = button("Delete", PromptActions.delete.value, str(prompt.id), style="danger")
    element["confirm"] = {
        "title": plain("Delete this prompt?", 100),
        "text": {"type": "mrkdwn", "text": clip(f"“{escape(prompt.title)}” will be removed.", 300)},
        "confirm": plain("Delete", 30),
        "deny": plain("Keep it", 30),
    }
    return element


def review_message(
    prompts: list[Prompt], *, total: int | None = None, offset: int = 0, note: str = ""
) -> dict[str, Any]:
    """The CoE's review queue from `offset` (oldest first), paged whole with the true
    `total`; `note` (mrkdwn) goes first, e.g. the decision just taken."""
    total = len(prompts) if total is None else total
    head = [section(note)] if note else []
    if not total:
        head.append(section("Nothing to review: no pending or hidden prompts."))
        return _reply(head, "Nothing")
    head.append(section(f"*{plural(total, 'prompt')} to review*"))
    entries = []
    for prompt in prompts:
        value = str(prompt.id)
        entries.append(
            [
                section(
                    f"*{escape(prompt.title)}* _({prompt.status})_\n{_preview(prompt.body, 4)}"
                ),
                context(_stats(prompt)),
                actions(
                    button("Publish", PromptActions.review_publish.value, value, style="primary"),
                    button("Keep hidden", PromptActions.review_hide.value, value),
                    button("Delete", PromptActions.review_delete.value, value, style="danger"),
                ),
            ]
        )
    blocks = page(
        head,
        entries,
        total=total,
        offset=offset,
        action_id=PromptActions.review_page.value,
        noun=("prompt", "prompts"),
    )
    return _reply(blocks, "Prompts to review")


def _input(
    block_id: str, label: str, *, initial: str | None, optional: bool, **element: Any
) -> Block:
    field: Block = {"type": "plain_text_input", "action_id": block_id, **element}
    if initial:
        field["initial_value"] = initial
    return {
        "type": "input",
        "block_id": block_id,
        "label": plain(label, 2000),
        "optional": optional,
        "element": field,
    }


def prompt_modal(*, channel_id: str | None, prompt: Prompt | None = None) -> dict[str, Any]:
    """The add (or edit, when `prompt` is given) modal."""
    body = prompt.body if prompt else ""
    parts = [body[i : i + INPUT_MAX] for i in range(0, len(body), INPUT_MAX)] + ["", "", ""]
    metadata = json.dumps(
        {
            "channel": channel_id,
            "prompt_id": prompt.id if prompt else None,
            "version": prompt.version if prompt else None,  # what this edit started from
        }
    )
    blocks: list[Block] = [
        _input(
            PromptModal.heading,
            "Title",
            initial=prompt.title if prompt else None,
            optional=False,
            max_length=150,
        ),
        _input(
            PromptModal.body,
            "Prompt",
            initial=parts[0],
            optional=False,
            multiline=True,
            max_length=INPUT_MAX,
        ),
        _input(
            PromptModal.body_more,
            "Prompt (continued, if longer)",
            initial=parts[1],
            optional=True,
            multiline=True,
            max_length=INPUT_MAX,
        ),
        _input(
            PromptModal.body_rest,
            "Prompt (end, if longer still)",
            initial=parts[2],
            optional=True,
            multiline=True,
            max_length=2000,
        ),
        _input(
            PromptModal.tags,
            "Tags",
            initial=prompt.tags_text.replace(" ", ", ") if prompt else None,
            optional=True,
            placeholder=plain("testing, python, code-review", 150),
        ),
        _input(
            PromptModal.stack,
            "Language / stack",
            initial=prompt.stack if prompt else None,
            optional=True,
            max_length=60,
        ),
        _input(
            PromptModal.use_case,
            "Use case",
            initial=prompt.use_case if prompt else None,
            optional=True,
            max_length=150,
        ),
        _input(
            PromptModal.tool,
            "AI tool it was tested with",
            initial=prompt.tool if prompt else None,
            optional=True,
            max_length=75,
        ),
        {
            "type": "input",
            "block_id": PromptModal.confirm,
            "optional": True,
            "label": plain("Personal data", 2000),
            "element": {
                "type": "checkboxes",
                "action_id": PromptModal.confirm,
                "options": [
                    {
                        "text": plain("Names, e-mails or numbers in it are made-up examples", 75),
                        "value": CONFIRM_EXAMPLE_DATA,
                    }
                ],
            },
        },
        context(
            "Prompts are checked for secrets (keys, tokens, passwords) and personal data. "
            "Never paste customer data or credentials."
        ),
    ]
    return {
        "type": "modal",
        "callback_id": PromptModal.callback.value,
        "title": plain("Edit prompt" if prompt else "Add a prompt", 24),
        "submit": plain("Save" if prompt else "Add", 24),
        "close": plain("Cancel", 24),
        "private_metadata": metadata,
        "blocks": blocks,
    }


def saved_view(prompt: Prompt, *, edited: bool) -> dict[str, Any]:
    if prompt.status == "pending":
        note = "It will be published once the CoE has reviewed it."
    else:
        note = "Colleagues can find it with `/prompts` now."
    verb = "updated" if edited else "added"
    return {
        "type": "modal",
        "title": plain("Prompt saved", 24),
        "close": plain("Done", 24),
        "blocks": [section(f":white_check_mark: *{escape(prompt.title)}* was {verb}. {note}")],
    }
