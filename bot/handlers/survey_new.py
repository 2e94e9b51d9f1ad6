"""`/ai-coe survey new`: a simple modal for a survey, one question a line."""

from __future__ import annotations

import re
from typing import Any

from pydantic import ValidationError
from slack_bolt.async_app import AsyncAck, AsyncApp

from bot.deps import Deps
from bot.errors import UserError
from bot.handlers.common import require_admin
from bot.services import surveys
from bot.services.survey_definitions import SurveyDefinition
from bot.services.text import control_problem
from bot.views.common import plain, section

CALLBACK = "survey-new-modal"
FIELDS = ("id", "title", "intro", "audience", "window", "questions", "anonymous")
QUESTIONS_HELP = (
    "One question a line: `likert: How useful …?`, `nps: How likely …?`, `text: What …?`, "
    "`single: Which …? | A | B | C`, `multi: Which …? | A | B`. End a line with `(optional)`."
)


def modal() -> dict[str, Any]:
    def field(block: str, label: str, *, multiline: bool = False, hint: str = "") -> dict[str, Any]:
        element: dict[str, Any] = {
            "type": "plain_text_input",
            "action_id": block,
            "multiline": multiline,
        }
        if hint:
            element["placeholder"] = plain(hint, 150)
        return {"type": "input", "block_id": block, "label": plain(label, 2000), "element": element}

    return {
        "type": "modal",
        "callback_id": CALLBACK,
        "title": plain("New survey", 24),
        "submit": plain("Save", 24),
        "close": plain("Cancel", 24),
        "blocks": [
            field("id", "Short id", hint="e.g. tooling-feedback"),
            field("title", "Title"),
            field("intro", "Introduction (what, how long, how answers are used)", multiline=True),
            field(
                "audience",
                "Audience",
                hint="channel C0123 · usergroup S0123 · team payments · users U1 U2 · active 30",
            ),
            field("window", "Days open", hint="7"),
            field("questions", "Questions", multiline=True),
            section(QUESTIONS_HELP),
            {
                "type": "input",
                "block_id": "anonymous",
                "optional": True,
                "label": plain("Anonymity", 2000),
                "element": {
                    "type": "checkboxes",
                    "action_id": "anonymous",
                    "options": [{"text": plain("Named: store who answered", 75), "value": "named"}],
                },
            },
        ],
    }


def _audience(text: str) -> dict[str, Any]:
    kind, _, rest = text.strip().partition(" ")
    rest = rest.strip()
    if kind == "users":
        return {"users": rest.replace(",", " ").split()}
    if kind == "active":
        return {"active_days": int(rest) if rest.isdigit() else rest}
    return {kind: rest}


def _questions(text: str) -> list[dict[str, Any]]:
    found = []
    lines = [raw.strip() for raw in text.splitlines() if raw.strip()]
    for number, line in enumerate(lines):
        kind, _, rest = line.partition(":")
        optional = rest.rstrip().endswith("(optional)")
        rest = re.sub(r"\(optional\)\s*$", "", rest).strip()
        parts = [p.strip() for p in rest.split("|")]
        question: dict[str, Any] = {
            "id": f"q{number + 1}",
            "type": kind.strip().lower(),
            "text": parts[0],
            "required": not optional,
        }
        if len(parts) > 1:
            question["options"] = parts[1:]
        found.append(question)
    return found


def register(app: AsyncApp, deps: Deps) -> None:
    @app.view(CALLBACK)
    async def saved(ack: AsyncAck, body: dict[str, Any], view: dict[str, Any]) -> None:
        user = body["user"]["id"]
        values = view.get("state", {}).get("values", {})

        def value(block: str) -> str:
            return str(values.get(block, {}).get(block, {}).get("value") or "")

        typed = {block: value(block) for block in FIELDS}
        refused = {b: p for b, text in typed.items() if (p := control_problem(text, "this"))}
        if refused:
            await ack(response_action="errors", errors=refused)
            return
        named = values.get("anonymous", {}).get("anonymous", {}).get("selected_options") or []
        data = {
            "id": value("id").strip().lower(),
            "title": value("title"),
            "intro": value("intro"),
            "anonymous": not named,
            "audience": _audience(value("audience")),
            "window_days": value("window").strip() or 7,
            "reminder_after_days": None,
            "questions": _questions(value("questions")),
        }
        try:
            await require_admin(deps, user)
            definition = SurveyDefinition.model_validate(data)
        except UserError as problem:
            await ack(response_action="errors", errors={"id": str(problem)})
            return
        except ValidationError as error:
            await ack(response_action="errors", errors=_errors(error))
            return
        async with deps.sessions.begin() as session:
            await surveys.save_definition(
                session=session, definition=definition, source="modal", actor=user, now=deps.clock()
            )
        await ack(
            response_action="update",
            view={
                "type": "modal",
                "title": plain("Survey saved", 24),
                "close": plain("Done", 24),
                "blocks": [
                    section(
                        f"Saved *{definition.id}*. Send it with "
                        f"`/ai-coe survey send {definition.id}`."
                    )
                ],
            },
        )


def _errors(error: ValidationError) -> dict[str, str]:
    where = {
        "id": "id",
        "title": "title",
        "intro": "intro",
        "audience": "audience",
        "window_days": "window",
        "questions": "questions",
        "anonymous": "anonymous",
    }
    errors: dict[str, str] = {}
    for problem in error.errors():
        first = str(problem["loc"][0]) if problem["loc"] else "questions"
        block = where.get(first, "questions")
        detail = ".".join(str(p) for p in problem["loc"][1:])
        message = str(problem["msg"]).removeprefix("Value error, ")
        errors.setdefault(block, f"{detail}: {message}"[:150] if detail else message[:150])
    return errors
