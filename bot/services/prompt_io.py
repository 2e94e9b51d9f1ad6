"""Importing and exporting the prompt library as YAML (a list of entries).

An entry has `title`, `body`, `tags` (a list), `stack`, `use_case`, `tool`, and optionally
`author` (a Slack user ID). Imports go through the same checks as `/prompts add`: lengths,
secrets, personal data and duplicates; an entry that fails is skipped with its reason,
and re-importing the same file adds nothing twice.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import BaseModel, ConfigDict, StringConstraints, TypeAdapter, ValidationError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.errors import BadInput
from bot.models import Prompt
from bot.services import audit, prompts
from bot.services.yaml_source import field_name, line_of

DEFAULT_AUTHOR = "USLACKBOT"
Scanner = Callable[[str], list[Any]]


class PromptEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str
    body: str
    tags: list[str] = []
    stack: str | None = None
    use_case: str | None = None
    tool: str | None = None
    author: Annotated[str, StringConstraints(pattern=r"^[UW][A-Z0-9]{2,}$")] | None = None


@dataclass(slots=True)
class ImportReport:
    added: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # "line 12: “Title”: why"


class ImportFileError(Exception):
    """The file is not a valid list of entries; `problems` are `file:line: field: message`."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def starter_library_path() -> Path:
    return Path(str(resources.files("bot") / "prompts" / "starter.yaml"))


def read_entries(path: Path) -> list[tuple[int, PromptEntry]]:
    """Parse and validate a file; each entry with the line it starts on."""
    text = path.read_text(encoding="utf-8")
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        raise ImportFileError([f"{path}{line}: yaml: {getattr(error, 'problem', error)}"]) from None
    if not isinstance(data, list) or node is None:
        raise ImportFileError([f"{path}:1: entries: the file must be a YAML list of prompts"])
    try:
        entries = TypeAdapter(list[PromptEntry]).validate_python(data)
    except ValidationError as error:
        raise ImportFileError(
            [
                f"{path}:{line_of(node, e['loc'])}: {field_name(e['loc'])}: {e['msg']}"
                for e in error.errors()
            ]
        ) from None
    return [(node.value[i].start_mark.line + 1, entry) for i, entry in enumerate(entries)]


async def import_entries(
    *,
    session: AsyncSession,
    entries: list[tuple[int, PromptEntry]],
    scan: Scanner,
    actor: str,
    now: dt.datetime,
) -> ImportReport:
    report = ImportReport()
    for line, entry in entries:
        label = f"line {line}: “{entry.title[:60]}”"
        problem = _safety_problem(scan(entry.body))
        if problem:
            report.skipped.append(f"{label}: {problem}")
            continue
        draft = prompts.PromptDraft(
            title=entry.title,
            body=entry.body,
            tags=entry.tags,
            stack=entry.stack,
            use_case=entry.use_case,
            tool=entry.tool,
        )
        try:
            draft.tags = prompts.parse_tags(", ".join(entry.tags))
            await prompts.create(
                session=session,
                draft=draft,
                author_id=entry.author or DEFAULT_AUTHOR,
                team=None,
                now=now,
                needs_review=False,
            )
        except prompts.DuplicatePrompt:
            report.skipped.append(f"{label}: already in the library")
            continue
        except BadInput as error:
            report.skipped.append(f"{label}: {error}")
            continue
        report.added.append(entry.title)
    await audit.record(
        session=session,
        actor=actor,
        action="prompts.import",
        details={"added": len(report.added), "skipped": len(report.skipped)},
        now=now,
    )
    return report


def _safety_problem(findings: list[Any]) -> str | None:
    for kind, verb in (("secret", "holds"), ("personal_data", "contains")):
        found = [f for f in findings if f.kind == kind]
        if found:
            return f"{verb} {found[0].describe()}"
    return None


async def export_entries(*, session: AsyncSession) -> list[dict[str, Any]]:
    query = (
        select(Prompt)
        .where(col(Prompt.status).in_([prompts.Status.published, prompts.Status.pending]))
        .order_by(col(Prompt.id))
    )
    entries: list[dict[str, Any]] = []
    for prompt in await session.exec(query):
        entry: dict[str, Any] = {"title": prompt.title, "body": prompt.body, "tags": prompt.tags}
        for key in ("stack", "use_case", "tool"):
            if getattr(prompt, key):
                entry[key] = getattr(prompt, key)
        entry["author"] = prompt.author_id
        entries.append(entry)
    return entries


class _Dumper(yaml.SafeDumper):
    """Multi-line text as `|` blocks, so an exported library reads like the starter file."""


def _represent_text(dumper: yaml.SafeDumper, data: str) -> yaml.ScalarNode:
    style = "|" if "\n" in data else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)


_Dumper.add_representer(str, _represent_text)


def dump_yaml(entries: list[dict[str, Any]]) -> str:
    return yaml.dump(entries, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)
