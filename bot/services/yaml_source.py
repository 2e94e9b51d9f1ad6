"""Where in a YAML file a validation error is: file:line and a dotted field name."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

Loc = tuple[int | str, ...]
M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True, slots=True)
class SourceIssue:
    """One problem in a YAML file, where a person can find it."""

    file: str
    line: int | None
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.field}: {self.message}"


class SourceErrors(Exception):
    """A file could not be loaded; `issues` says why, each with file:line and field."""

    def __init__(self, issues: list[SourceIssue]) -> None:
        super().__init__("; ".join(str(i) for i in issues))
        self.issues = issues


def field_name(loc: Loc) -> str:
    parts: list[str] = []
    for part in loc:
        if isinstance(part, int):
            parts.append(f"[{part}]")
        else:
            parts.append(("." if parts else "") + part)
    return "".join(parts)


def line_of(node: Any, loc: Loc) -> int | None:
    """Follow a pydantic error location through the YAML node tree to a line number."""
    if node is None:
        return None
    line: int = node.start_mark.line + 1
    for part in loc:
        child = None
        if isinstance(node, yaml.MappingNode) and isinstance(part, str):
            child = next((v for k, v in node.value if k.value == part), None)
            if child is None:  # a missing field: point at the mapping that lacks it
                return line
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            child = node.value[part] if part < len(node.value) else None
        if child is None:
            return line
        node = child
        line = node.start_mark.line + 1
    return line


def _duplicates(node: Any, loc: Loc) -> Any:
    """(line, field) of every key a mapping repeats (YAML loaders keep the last one)."""
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key, value in node.value:
            name = str(key.value)
            if name in seen:
                yield key.start_mark.line + 1, (*loc, name)
            seen.add(name)
            yield from _duplicates(value, (*loc, name))
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            yield from _duplicates(item, (*loc, index))


def parse_model(
    text: str,
    model: type[M],
    *,
    source: str,
    error: type[SourceErrors],
    root: str,
    extra: dict[str, Any] | None = None,
) -> M:
    """`text` (YAML) validated as `model`; raises `error` with each problem's file:line
    and field (`root` names the whole document). `extra` adds fields not in the file."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data: Any = yaml.safe_load(text)
    except yaml.YAMLError as problem:
        mark = getattr(problem, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        said = str(getattr(problem, "problem", None) or problem)
        raise error([SourceIssue(source, line, "yaml", said)]) from None
    if not isinstance(data, dict):
        raise error([SourceIssue(source, 1, root, "must be a YAML mapping")])
    twice = list(_duplicates(node, ()))
    if twice:
        raise error(
            [
                SourceIssue(
                    source,
                    line,
                    field_name(loc),
                    "appears twice: the second would silently replace the first",
                )
                for line, loc in twice
            ]
        )
    try:
        return model.model_validate({**data, **(extra or {})})
    except ValidationError as problem:
        raise error(
            [
                SourceIssue(
                    source,
                    line_of(node, e["loc"]),
                    field_name(e["loc"]) or root,
                    str(e["msg"]).removeprefix("Value error, "),
                )
                for e in problem.errors()
            ]
        ) from None
