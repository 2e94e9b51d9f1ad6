"""Reading the add/edit prompt modal: field errors a person sees on the field itself."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from bot.errors import BadInput
from bot.handlers.common import metadata_id
from bot.services import prompt_safety
from bot.services.prompts import PromptDraft, field_problems, parse_tags
from bot.views.prompts import CONFIRM_EXAMPLE_DATA, PromptModal


@dataclass(slots=True)
class Submission:
    draft: PromptDraft
    prompt_id: int | None
    errors: dict[str, str] = field(default_factory=dict)
    started_from: int | None = None  # the prompt's version when the edit modal opened


def _value(values: dict[str, Any], block: PromptModal) -> str:
    element = values.get(block.value, {}).get(block.value, {})
    return str(element.get("value") or "")


def _confirmed(values: dict[str, Any]) -> bool:
    element = values.get(PromptModal.confirm.value, {}).get(PromptModal.confirm.value, {})
    chosen = element.get("selected_options")
    return isinstance(chosen, list) and any(
        isinstance(o, dict) and o.get("value") == CONFIRM_EXAMPLE_DATA for o in chosen
    )


async def read_submission(view: dict[str, Any]) -> Submission:
    values = view.get("state", {}).get("values", {})
    prompt_id = metadata_id(view, "prompt_id")
    body_parts = [_value(values, b) for b in (PromptModal.body, PromptModal.body_more)]
    body_parts.append(_value(values, PromptModal.body_rest))
    draft = PromptDraft(
        title=_value(values, PromptModal.heading),
        body="".join(body_parts),
        stack=_value(values, PromptModal.stack),
        use_case=_value(values, PromptModal.use_case),
        tool=_value(values, PromptModal.tool),
    )
    submission = Submission(
        draft=draft, prompt_id=prompt_id, started_from=metadata_id(view, "version")
    )
    try:
        draft.tags = parse_tags(_value(values, PromptModal.tags))
    except BadInput as error:
        submission.errors[PromptModal.tags.value] = str(error)
    where = {"title": PromptModal.heading.value}  # a field's problem shows on its own input
    for name, message in field_problems(draft).items():
        submission.errors[where.get(name, name)] = message
    if PromptModal.body.value not in submission.errors:
        unsafe = await _safety_problem(draft.body, confirmed=_confirmed(values))
        if unsafe:
            submission.errors[PromptModal.body.value] = unsafe
    return submission


async def _safety_problem(body: str, *, confirmed: bool) -> str | None:
    findings = await asyncio.to_thread(prompt_safety.scan, body)
    secrets = [f for f in findings if f.kind == "secret"]
    if secrets:
        return (
            f"This looks like {secrets[0].describe()}. Remove it (and rotate it if it is real): "
            "prompts must never hold secrets."
        )
    personal = [f for f in findings if f.kind == "personal_data"]
    if personal and not confirmed:
        return (
            f"This contains {personal[0].describe()}. Remove real personal data, or tick "
            "“made-up examples” below to confirm it is not real."
        )
    return None
