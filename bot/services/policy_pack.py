"""The policy pack: the organisation's AI-coding policy as a validated YAML document.

A pack names compliance tiers, code categories, approved tools, the category x tier
matrix and free-form rules. `load_pack` parses and validates one; every problem is
reported as a `PackIssue` with the file, line and field it concerns, so a policy author
can fix the YAML without reading a traceback.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import Annotated

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
)

from bot.services.yaml_source import Loc, SourceErrors, SourceIssue, field_name, line_of

Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]*$", max_length=60)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2500)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=75)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ToolStatus(StrEnum):
    approved = "approved"
    pilot = "pilot"
    not_allowed = "not_allowed"


class Decision(StrEnum):
    allowed = "allowed"
    allowed_with_review = "allowed_with_review"
    not_allowed = "not_allowed"


class Verdict(StrEnum):
    """What an answer's first line says, from most permissive to strictest."""

    allowed = "allowed"
    allowed_with_review = "allowed_with_review"
    not_allowed = "not_allowed"
    incident = "incident"

    @property
    def rank(self) -> int:
        return list(Verdict).index(self)


Step = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class Link(_Strict):
    title: Name
    url: Annotated[str, StringConstraints(pattern=r"^https?://\S+$", max_length=500)]


class Metadata(_Strict):
    name: Name
    version: Annotated[str, StringConstraints(min_length=1, max_length=40)]
    effective_date: dt.date
    owner: Name
    last_reviewed: dt.date
    review_interval_days: Annotated[int, Field(ge=1, le=730)]
    example: bool = False
    notice: Text | None = None
    contact_channel: Annotated[str, StringConstraints(max_length=80)] | None = None


class Tier(_Strict):
    id: Slug
    name: Name
    description: Text
    keywords: list[Name] = []
    # Words that make this tier possible without settling it ("payments" may be PCI):
    # when a question names no tier, a hinted tier is asked about if it changes the answer.
    hints: list[Name] = []


class Category(_Strict):
    id: Slug
    name: Name
    description: Text
    keywords: list[Name] = []
    examples: list[Text] = []


class Tool(_Strict):
    id: Slug
    name: Name
    aliases: list[Name] = []
    status: ToolStatus
    tiers: list[Slug] = []
    configuration: list[Text] = []
    data_residency: Text | None = None
    notes: Text | None = None
    links: list[Link] = []


class MatrixCell(_Strict):
    category: Slug
    tier: Slug
    decision: Decision
    review: Text
    label_required: bool = False
    notes: Text | None = None
    summary: Step | None = None  # the review in one line, under the verdict


class Rule(_Strict):
    id: Slug
    question: Text
    answer: Text
    keywords: list[Name] = []
    links: list[Link] = []
    # What the rule decides when a question triggers it: any phrase of `triggers` present
    # makes `verdict` apply (and outrank a more permissive matrix cell), unless a phrase
    # of `unless` is present too, when the rule's permissive case (`allowed`) applies.
    verdict: Verdict | None = None
    triggers: list[Name] = []
    unless: list[Name] = []
    # At most three short lines of what to do, shown under the verdict.
    steps: Annotated[list[Step], Field(max_length=3)] = []
    # What the answer says when an `unless` phrase lifts the rule.
    lifted: Step | None = None
    # The tools a question names are the rule's subject (models inside a tool), not tools
    # being used: their own status does not apply.
    names_tools: bool = False
    # Also triggered when a phrase of *each* group appears: who (an agent), what it does
    # (runs, applies, reads) and where (production, admin) — "let claude code run kubectl
    # against the prod cluster" names no trigger phrase but all three.
    together: list[Annotated[list[Name], Field(min_length=1)]] = []


class DataClass(_Strict):
    """A kind of data a question may put into a prompt (secrets, personal data, ...)."""

    id: Slug
    name: Name
    keywords: Annotated[list[Name], Field(min_length=1)]
    in_prompt: Verdict
    on_code: Verdict | None = None  # None: code touching it follows the matrix
    rule: Slug
    incident_rule: Slug | None = None  # what to do once it has been pasted
    neutralises: list[Slug] = []  # "synthetic" customer data is not personal data
    literal: bool = False  # a credential written out in the question (ghp_…, AKIA…) is this


class UnlistedTools(_Strict):
    """AI tools people ask about that are not in `tools`: answered by `rule`."""

    names: Annotated[list[Name], Field(min_length=1)]
    rule: Slug


class PolicyPack(_Strict):
    metadata: Metadata
    tiers: Annotated[list[Tier], Field(min_length=1)]
    categories: Annotated[list[Category], Field(min_length=1)]
    tools: list[Tool] = []
    matrix: list[MatrixCell]
    rules: list[Rule] = []
    data_classes: list[DataClass] = []
    unlisted_tools: list[UnlistedTools] = []
    # The rule that answers for a tool the pack does not name at all.
    unknown_tool_rule: Slug | None = None
    # The category assumed for a change that names none ("copilot to add a gRPC method").
    default_category: Slug | None = None
    # The category assumed instead when such a change names sensitive data without pasting
    # it ("the CRM sync copies contacts into the warehouse; add a couple of fields").
    data_category: Slug | None = None
    # The rule that answers when something a rule forbids has already happened ("the agent
    # merged its own PR last night"): containing and reporting it comes first.
    breach_rule: Slug | None = None
    synonyms: dict[Name, Name] = {}

    def cell(self, category_id: str, tier_id: str) -> MatrixCell:
        return next(c for c in self.matrix if c.category == category_id and c.tier == tier_id)

    def tier(self, tier_id: str) -> Tier:
        return next(t for t in self.tiers if t.id == tier_id)

    def category(self, category_id: str) -> Category:
        return next(c for c in self.categories if c.id == category_id)

    def rule(self, rule_id: str) -> Rule:
        return next(r for r in self.rules if r.id == rule_id)


PackIssue = SourceIssue


class PackError(SourceErrors):
    """The pack could not be loaded; `issues` says why, each with file:line and field."""


@dataclass(frozen=True, slots=True)
class LoadedPack:
    pack: PolicyPack
    source: str
    sha256: str


def default_pack_path() -> Path:
    return Path(str(resources.files("bot") / "policy" / "default.yaml"))


def load_pack(path: Path | str | None = None) -> LoadedPack:
    """Read and validate a pack file; raise `PackError` listing every problem found."""
    file = Path(path) if path else default_pack_path()
    try:
        raw = file.read_bytes()
    except OSError as exc:
        raise PackError([PackIssue(str(file), None, "file", exc.strerror or str(exc))]) from exc
    return parse_pack(raw, source=str(file))


def parse_pack(raw: bytes, *, source: str) -> LoadedPack:
    text = raw.decode("utf-8", errors="replace")
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc)
        raise PackError([PackIssue(source, line, "yaml", str(problem))]) from exc
    if not isinstance(data, dict):
        raise PackError([PackIssue(source, 1, "pack", "the pack must be a YAML mapping")])
    try:
        pack = PolicyPack.model_validate(data)
    except ValidationError as exc:
        issues = [
            PackIssue(
                source,
                line_of(node, err["loc"]),
                field_name(err["loc"]) or "pack",
                err["msg"].removeprefix("Value error, "),
            )
            for err in exc.errors()
        ]
        raise PackError(issues) from exc
    problems = cross_check(pack)
    if problems:
        raise PackError(
            [PackIssue(source, line_of(node, loc), field_name(loc), msg) for loc, msg in problems]
        )
    return LoadedPack(pack=pack, source=source, sha256=hashlib.sha256(raw).hexdigest())


def cross_check(pack: PolicyPack) -> list[tuple[Loc, str]]:
    """What a schema cannot see: duplicate ids, unknown references, missing matrix cells."""
    problems: list[tuple[Loc, str]] = []
    groups: tuple[tuple[str, Sequence[Tier | Category | Tool | Rule]], ...] = (
        ("tiers", pack.tiers),
        ("categories", pack.categories),
        ("tools", pack.tools),
        ("rules", pack.rules),
    )
    for kind, items in groups:
        seen: set[str] = set()
        for number, item in enumerate(items):
            if item.id in seen:
                problems.append(((kind, number, "id"), f"duplicate id {item.id!r}"))
            seen.add(item.id)
    tier_ids = {t.id for t in pack.tiers}
    category_ids = {c.id for c in pack.categories}
    for number, tool in enumerate(pack.tools):
        for position, tier in enumerate(tool.tiers):
            if tier not in tier_ids:
                problems.append((("tools", number, "tiers", position), f"unknown tier {tier!r}"))
    problems += _check_rule_references(pack)
    cells: set[tuple[str, str]] = set()
    for number, cell in enumerate(pack.matrix):
        if cell.category not in category_ids:
            problems.append((("matrix", number, "category"), f"unknown category {cell.category!r}"))
        if cell.tier not in tier_ids:
            problems.append((("matrix", number, "tier"), f"unknown tier {cell.tier!r}"))
        if (cell.category, cell.tier) in cells:
            problems.append(
                (("matrix", number), f"a second cell for {cell.category!r} x {cell.tier!r}")
            )
        cells.add((cell.category, cell.tier))
    for category in sorted(category_ids):
        for tier in sorted(tier_ids):
            if (category, tier) not in cells:
                problems.append((("matrix",), f"no cell for {category!r} x {tier!r}"))
    return problems


def _check_rule_references(pack: PolicyPack) -> list[tuple[Loc, str]]:
    problems: list[tuple[Loc, str]] = []
    rule_ids = {r.id for r in pack.rules}
    class_ids = {d.id for d in pack.data_classes}
    for number, data in enumerate(pack.data_classes):
        for name in ("rule", "incident_rule"):
            ref = getattr(data, name)
            if ref is not None and ref not in rule_ids:
                problems.append((("data_classes", number, name), f"unknown rule {ref!r}"))
        for position, other in enumerate(data.neutralises):
            if other not in class_ids:
                problems.append(
                    (("data_classes", number, "neutralises", position), f"unknown class {other!r}")
                )
    for number, group in enumerate(pack.unlisted_tools):
        if group.rule not in rule_ids:
            problems.append((("unlisted_tools", number, "rule"), f"unknown rule {group.rule!r}"))
    for key, value in (
        ("default_category", pack.default_category),
        ("data_category", pack.data_category),
    ):
        if value is not None and value not in {c.id for c in pack.categories}:
            problems.append(((key,), f"unknown category {value!r}"))
    if pack.unknown_tool_rule is not None and pack.unknown_tool_rule not in rule_ids:
        problems.append((("unknown_tool_rule",), f"unknown rule {pack.unknown_tool_rule!r}"))
    if pack.breach_rule is not None and pack.breach_rule not in rule_ids:
        problems.append((("breach_rule",), f"unknown rule {pack.breach_rule!r}"))
    for number, rule in enumerate(pack.rules):
        if (rule.triggers or rule.together) and rule.verdict is None:
            problems.append((("rules", number, "verdict"), "a rule with triggers needs a verdict"))
    return problems
