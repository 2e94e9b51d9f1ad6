"""The one answer the pack gives a question: pure and fast.

`policy_read.Reader` finds the facts a question names (`Facts`); `decide` turns them
into a `Ruling`:

- every constraint that applies is a `Reason` with a verdict: a data class in a prompt,
  an incident, a rule the question triggers, a tool's status and tiers, the matrix cell
  for the riskiest category the change touches;
- the ruling's verdict is the strictest of them (`Verdict.rank`), so a tool not
  approved for the tier, a data rule or an incident step is never hidden behind a
  permissive cell;
- the tier is the strictest one named, else the asker's team default, else every tier
  the question leaves possible (tiers without `hints`, and hinted tiers whose hint words
  appear): if they disagree the ruling asks which, otherwise it answers;
- where the category decides and none is named, it asks which category.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum

from bot.services.policy_pack import (
    Category,
    Decision,
    MatrixCell,
    PolicyPack,
    Rule,
    Tier,
    Tool,
    ToolStatus,
    Verdict,
)
from bot.services.policy_read import (
    ARTEFACT_CUES,
    CODE_CUES,
    GENERAL_CUES,
    RULES_CUES,
    WORK_CUES,
    Facts,
)

MAX_STEPS = 3


class Intent(StrEnum):
    may_i = "may_i"
    tool_approved = "tool_approved"
    data_in_prompt = "data_in_prompt"
    incident = "incident"
    request = "request"
    overview = "overview"
    unknown = "unknown"


@dataclass(frozen=True, slots=True)
class Reason:
    """One constraint that applies, with the lines that explain it."""

    verdict: Verdict
    why: str  # mrkdwn, already escaped; the verdict line's text after the label
    steps: tuple[str, ...] = ()
    rule: Rule | None = None
    cell: MatrixCell | None = None
    tool: Tool | None = None


@dataclass(frozen=True, slots=True)
class Option:
    kind: str  # "tier" | "category" | "pilot"
    id: str
    label: str
    description: str
    # A tier's outcome, when the ruling knows it: the verdict there and, when a tool or a
    # rule decides it, why (mrkdwn, already escaped): the ask-back says what each choice means.
    verdict: Verdict | None = None
    why: str = ""


@dataclass(slots=True)
class Ruling:
    """The answer: a verdict (or an ask-back), its reason and at most three steps."""

    intent: Intent
    verdict: Verdict | None
    reasons: list[Reason] = field(default_factory=list)
    tier: Tier | None = None
    tier_source: str | None = None  # "asked" | "team" | "chosen" | None (not needed)
    category: Category | None = None
    ask: list[Option] = field(default_factory=list)
    ask_why: str = ""
    elsewhere: list[tuple[Tier, Reason]] = field(default_factory=list)

    @property
    def lead(self) -> Reason | None:
        return self.reasons[0] if self.reasons else None


def short(name: str) -> str:
    """A pack name without its parenthesis: "Regulated (PCI, HIPAA, ...)" -> "Regulated"."""
    return name.split(" (", 1)[0].split(" / ", 1)[0]


def either(items: Sequence[str]) -> str:
    """ "a", "a or b", "a, b or c"."""
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} or {items[-1]}"


def article(word: str) -> str:
    return "an" if word[:1].lower() in "aeiou" else "a"


# -- deciding -------------------------------------------------------------------------


def _strictest(reasons: Iterable[Reason]) -> list[Reason]:
    """Strictest first; among equals, the order they were found in."""
    return sorted(reasons, key=lambda r: -r.verdict.rank)


def _decision_verdict(decision: Decision) -> Verdict:
    return Verdict(decision.value)


def gist(text: str, limit: int = 110) -> str:
    """A description's first clause (up to a colon or full stop), for a choice's line."""
    head = re.split(r"(?<=[.:;])\s", text.strip(), maxsplit=1)[0].rstrip(":;")
    return head if len(head) <= limit else head[: limit - 1].rstrip() + "…"


def first_sentence(text: str, limit: int = 200) -> str:
    """A paragraph's first sentence, for a step line (clipped at `limit` characters)."""
    head = re.split(r"(?<=\.)\s", text.strip(), maxsplit=1)[0]
    return head if len(head) <= limit else head[: limit - 1].rstrip() + "…"


def decide(
    pack: PolicyPack,
    facts: Facts,
    *,
    escape: Callable[[str], str],
    tier: str | None = None,
    category: str | None = None,
    team_tier: str | None = None,
    enrolled: bool | None = None,
    ranked: Sequence[Rule] = (),
) -> Ruling:
    """The ruling for `facts`; `tier`/`category` are choices pressed on an ask-back,
    `team_tier` the asker's team default, `ranked` the rules the question's words are
    closest to (a request with nothing else to go on is answered by the first that
    decides), `enrolled` the answer to "is your team in the pilot?". `escape` makes
    user text safe for mrkdwn."""
    intent = _intent(facts)
    named_tools = bool(facts.tools)
    if enrolled is not None:
        facts = replace(facts, enrolled=enrolled)
    if intent is Intent.overview or any(r.names_tools for r, _ in facts.triggered):
        facts = replace(facts, tools=())  # the overview names tools itself; "gemini in copilot"
    if intent is Intent.overview and not facts.sensitive:
        facts = replace(facts, data=(), real=())  # "do the tools train on our code?"
    if intent is Intent.overview:  # a rule that only permits is guidance here
        kept = tuple(
            (r, lifted) for r, lifted in facts.triggered if r.verdict is not Verdict.allowed
        )
        facts = replace(facts, triggered=kept)
    chosen_category = pack.category(category) if category else None
    if chosen_category:
        categories = [chosen_category]
    elif intent in {Intent.data_in_prompt, Intent.incident} or (
        intent is Intent.request and not facts.tiers
    ):
        categories = []  # "customer data" in a prompt is not data-handling code
    else:
        categories = list(facts.categories)
    assumed_category = False
    if (
        not categories
        and (
            (intent is Intent.tool_approved and facts.tools)
            or (intent is Intent.overview and (facts.tiers or tier or team_tier))
        )
        and pack.default_category
        and set(facts.tokens) & (WORK_CUES if facts.tools else ARTEFACT_CUES)
    ):
        moves_data = facts.sensitive and bool(set(facts.tokens) & DATA_MOVING_CUES)
        assumed = (pack.data_category if moves_data else None) or pack.default_category
        categories, assumed_category = [pack.category(assumed)], True
    if intent is Intent.request and not facts.tools and not facts.unlisted:
        deciding = [r for r in ranked if r.verdict is not None and not r.triggers][:1]
        facts = replace(facts, triggered=facts.triggered + tuple((r, False) for r in deciding))
    tier_source: str | None
    if tier:
        candidates, tier_source = [pack.tier(tier)], "chosen"
    elif facts.tiers:
        strictest = max(facts.tiers, key=lambda t: pack.tiers.index(t))
        # "the payments api": customer-facing, unless it is in PCI scope; ask if it matters
        stricter = [t for t in facts.hinted if pack.tiers.index(t) > pack.tiers.index(strictest)]
        candidates, tier_source = [strictest, *stricter], "asked"
    elif team_tier and any(t.id == team_tier for t in pack.tiers):
        candidates, tier_source = [pack.tier(team_tier)], "team"
    else:
        hinted = {t.id for t in facts.hinted}
        candidates = [t for t in pack.tiers if not t.hints or t.id in hinted]
        if len(facts.doubted) > 1:  # "not sure if it's internal or customer facing"
            candidates = list(facts.doubted)
        elif (intent is Intent.tool_approved and not facts.data) or (
            # code, not a question about safe data ("made-up sample data for the tests")
            intent is Intent.may_i and categories and (facts.sensitive or not facts.data)
        ):
            # Nothing says which system: every tier is possible, and one that changes the
            # answer is asked about (silence does not rule out a regulated system).
            candidates = list(pack.tiers)
        tier_source = None
    if intent in {Intent.data_in_prompt, Intent.incident} and tier_source is None:
        candidates = candidates[:1]  # the tool's tier matters only where a tier is named
    per_tier = {t.id: _reasons(pack, facts, t, categories, escape) for t in candidates}
    verdicts = {t: _verdict_of(r) for t, r in per_tier.items()}
    pilots = [t for t in facts.tools if t.status is ToolStatus.pilot]
    if pilots and facts.enrolled is None and intent is not Intent.overview:
        if_enrolled = replace(facts, enrolled=True)
        loose = {
            t.id: _verdict_of(_reasons(pack, if_enrolled, t, categories, escape))
            for t in candidates
        }
        if loose != verdicts:
            tool = short(pilots[0].name)
            where = ", ".join(short(pack.tier(t).name) for t in pilots[0].tiers)
            return Ruling(
                intent=intent,
                verdict=None,
                ask=[
                    Option(
                        "pilot",
                        "yes",
                        "Yes, we're enrolled",
                        f"then {tool} may be used in {where}.",
                    ),
                    Option("pilot", "no", "No", f"then {tool} may not be used for work yet."),
                ],
                ask_why=f"{tool} is a pilot: only enrolled teams may use it.",
                category=_riskiest(pack, categories, candidates),
            )
    if len(set(verdicts.values())) > 1:
        # The likely tiers first (a hinted one before the rest), then any the question
        # left out: the asker knows where their code runs.
        order = sorted(
            candidates,
            key=lambda t: (t.id not in {h.id for h in facts.hinted}, -pack.tiers.index(t)),
        ) + [t for t in pack.tiers if t not in candidates]
        return Ruling(
            intent=intent,
            verdict=None,
            ask=[_tier_option(t, per_tier.get(t.id, [])) for t in order],
            ask_why="The answer depends on the system the code runs in.",
            category=_riskiest(pack, categories, candidates),
        )
    chosen = candidates[0] if tier_source else candidates[-1]
    reasons = per_tier[chosen.id]
    if tier_source is None and reasons and reasons[0].cell is not None:
        names = either([f"*{short(t.name)}*" for t in candidates])
        lead = reasons[0]
        category_name = short(pack.category(lead.cell.category).name) if lead.cell else ""
        why = f"*{category_name}* code in {article(candidates[0].name)} {names} system."
        reasons = [replace(lead, why=why), *reasons[1:]]
    if tier_source is None and reasons and reasons[0].tool is not None:
        lead = reasons[0]
        if lead.verdict is Verdict.allowed and lead.tool is not None and lead.rule is None:
            if len(lead.tool.tiers) == len(pack.tiers):
                why = f"*{short(lead.tool.name)}* is approved in every tier."
            else:
                where = either([f"*{short(pack.tier(t).name)}*" for t in lead.tool.tiers])
                why = f"*{short(lead.tool.name)}* is approved for {where} systems."
            reasons = [replace(lead, why=why), *reasons[1:]]
    if (
        pack.breach_rule
        and intent in {Intent.may_i, Intent.tool_approved}
        and reasons
        and reasons[0].verdict is Verdict.not_allowed
        and _told_done(facts)
    ):
        # "yesterday i used cursor on the pci repo": a tool not approved there, an unlisted
        # tool or a personal plan, already used — containing and reporting it comes first
        why = f"Already done, against the policy: {reasons[0].why}"
        breach = _rule_reason(pack.rule(pack.breach_rule), Verdict.incident, why)
        intent, reasons = Intent.incident, [breach, *reasons]
    if assumed_category and reasons and reasons[0].cell is not None:
        lead = reasons[0]
        why = lead.why.rstrip(".") + " (assumed: say if it is tests, security or data code)."
        reasons = [replace(lead, why=why), *reasons[1:]]
    ruling = Ruling(
        intent=intent,
        verdict=_verdict_of(reasons),
        reasons=reasons,
        tier=chosen if tier_source else None,
        tier_source=tier_source,
        category=_riskiest(pack, categories, candidates),
    )
    about_code = intent is Intent.may_i or (
        intent is Intent.overview and bool(set(facts.tokens) & CODE_CUES)
    )
    tokens = list(facts.tokens)
    vague = named_tools and (
        bool(set(tokens) & VAGUE_WORK_CUES)
        or any(tokens[i : i + 2] == ["do", "stuff"] for i in range(len(tokens)))
        or any(t in {"thing", "things"} and tokens[i - 1] in FEW for i, t in enumerate(tokens))
        or any(t in WHOLE for t in tokens[:-1])  # "the whole app", "the entire service"
    )
    unsaid = (not categories or assumed_category) and tier_source in {"asked", "team"}
    if unsaid and vague and ruling.verdict is not Verdict.not_allowed:
        # "can tabnine help with a few things in the pci repo": work, but which kind decides
        options = _category_options(pack, facts, chosen, escape)
        if options:
            ruling.verdict, ruling.ask, ruling.reasons = None, options, []
            ruling.intent = Intent.may_i
            ruling.ask_why = "The answer depends on what the code does."
            return ruling
    if not reasons and tier_source and not categories and about_code:
        options = _category_options(pack, facts, chosen, escape)
        if options:
            ruling.verdict, ruling.ask = None, options
            ruling.ask_why = "The answer depends on what the code does."
            return ruling
    if (
        tier_source is None
        and ruling.verdict is not None
        and intent
        not in {
            Intent.data_in_prompt,
            Intent.incident,
        }
    ):
        for other in pack.tiers:
            if other in candidates:
                continue
            elsewhere = _reasons(pack, facts, other, categories, escape)
            verdict = _verdict_of(elsewhere)
            if verdict is not None and verdict.rank > ruling.verdict.rank:
                ruling.elsewhere.append((other, elsewhere[0]))
    return ruling


def _tier_option(tier: Tier, reasons: Sequence[Reason]) -> Option:
    lead = reasons[0] if reasons else None
    return Option(
        "tier",
        tier.id,
        tier.name,
        gist(tier.description),
        verdict=lead.verdict if lead else None,
        # a cell's why, or a tool's approval, only names the tier again
        why=lead.why if lead and lead.cell is None and lead.verdict is not Verdict.allowed else "",
    )


def _verdict_of(reasons: Sequence[Reason]) -> Verdict | None:
    return reasons[0].verdict if reasons else None


# Code that moves or keeps the sensitive data it names ("the sync copies contacts into the
# warehouse"): the pack's data category, not the default one, is assumed.
DATA_MOVING_CUES = frozenset(
    "copy copies copying sync syncs syncing export exports exporting import imports importing "
    "migrate migrates migration backfill backfills load loads ingest ingests store stores "
    "move moves pipeline etl replicate replicates".split()
)
# Two ways of doing something compared ("any different from", "vs"): a general question.
COMPARISON_CUES = frozenset("difference differences vs versus compared".split())
# Work named without saying what kind ("a few things", "some changes", "do stuff",
# "whats the rule"): with a tool and a tier, the category decides, so it is asked.
VAGUE_WORK_CUES = frozenset("change changes rule rules everything".split())
FEW = frozenset("few some couple other small random misc various".split())
WHOLE = frozenset({"whole", "entire"})
# A question about what may be done next, not about what was done ("can the AI reviewer
# count as the second approver if one human already approved?").
FUTURE_CUES = frozenset("can could may should would will want wants wanna planning going".split())
DONE_CUES = frozenset("did was yesterday ago last".split())  # not "were": "we're"
# ...and whatever the past tense, a plan is not a deed ("i was gonna have claude code do it").
PLAN_CUES = frozenset("gonna wanna planning plan intend intending thinking considering".split())
# A thing done, said plainly: what turns "not allowed" into "it happened, contain it" when no
# rule names the act itself ("yesterday i used cursor on the pci repo"). An "-ed" word alone
# ("passport images get stored") is not enough here.
DONE_MARKERS = frozenset(
    "yesterday ago last earlier been was did had used ran gave turned merged "
    "pushed pasted shared uploaded committed deployed realised realized noticed oops "
    "accidentally weekend overnight suppressed waived skipped disabled restarted deleted "
    "found friday monday turns didnt tell report notify nervous".split()
)


def _told_done(facts: Facts) -> bool:
    """The question tells plainly of something already done (a DONE_MARKERS word), not of
    what to do next."""
    if not facts.incident or facts.request:  # "how do i get the jira mcp server added"
        return False
    words = set(facts.tokens)
    if words & PLAN_CUES or not words & DONE_MARKERS:
        return False
    tokens = facts.tokens
    future = any(  # a modal, not in a purpose clause ("so the pr could make the release")
        t in FUTURE_CUES and not set(tokens[max(0, i - 5) : i]) & {"so", "that", "which"}
        for i, t in enumerate(tokens)
    )
    return not (future and not words & DONE_CUES)  # "can the AI count if one already ..."


def _breached(facts: Facts) -> list[Rule]:
    """The rules a question says were already broken: it tells of something done, and a
    rule that forbids it was triggered ("the agent merged its own PR last night")."""
    if not _told_done(facts):
        return []  # "agent mode with auto-approve switched on for the terraform repo, ok?"
    return [r for r, lifted in facts.triggered if not lifted and r.verdict is Verdict.not_allowed]


def _intent(facts: Facts) -> Intent:
    if facts.incident and (facts.sensitive or _breached(facts)):
        return Intent.incident
    if facts.request:
        return Intent.request
    general = bool(set(facts.tokens) & GENERAL_CUES)
    if (
        facts.data
        and (facts.prompt or (facts.real and not facts.categories))
        and not (general and not facts.sensitive)  # "do the tools train on our code?"
    ):
        return Intent.data_in_prompt
    tokens = list(facts.tokens)
    compared = bool(set(tokens) & COMPARISON_CUES) or any(
        tokens[i : i + 2] in (["any", "different"], ["different", "from"], ["different", "than"])
        for i in range(len(tokens))
    )
    if (
        compared
        and not facts.sensitive
        and not facts.categories
        and all(r.verdict in {None, Verdict.allowed} or lifted for r, lifted in facts.triggered)
    ):
        return Intent.overview  # "is claude in copilot's picker any different from the app?"
    if facts.categories or facts.triggered:
        return Intent.may_i
    usable = all(t.status is not ToolStatus.not_allowed for t in facts.tools)
    if (
        facts.tools
        and usable
        and not facts.unlisted
        and (general or set(facts.tokens) & RULES_CUES)
    ):
        return Intent.overview  # "the rules for copilot-style tools", "training before copilot"
    if facts.tools or facts.unlisted:
        return Intent.tool_approved
    if facts.generic or facts.tiers:
        return Intent.overview
    return Intent.unknown


def _riskiest(
    pack: PolicyPack, categories: Sequence[Category], tiers: Sequence[Tier]
) -> Category | None:
    """The category whose cell is strictest in any of `tiers` (later in the pack on a tie:
    the pack lists categories from least to most risky)."""
    if not categories:
        return None
    return max(
        categories,
        key=lambda c: (
            max(_decision_verdict(pack.cell(c.id, t.id).decision).rank for t in tiers),
            pack.categories.index(c),
        ),
    )


def _reasons(
    pack: PolicyPack,
    facts: Facts,
    tier: Tier,
    categories: Sequence[Category],
    escape: Callable[[str], str],
) -> list[Reason]:
    """Every constraint that applies in `tier`, strictest first."""
    classes = {d.id: d for d in pack.data_classes}
    found: list[Reason] = []
    sensitive = [classes[d] for d in facts.data if classes[d].in_prompt is not Verdict.allowed]
    if facts.incident and sensitive:
        for data in sensitive:
            rule = pack.rule(data.incident_rule) if data.incident_rule else pack.rule(data.rule)
            found.append(
                _rule_reason(rule, Verdict.incident, f"{data.name} pasted into an AI tool.")
            )
    breached = _breached(facts) if pack.breach_rule else []
    if breached and not sensitive:
        broken = _rule_reason(breached[0], Verdict.not_allowed, None)
        why = f"Already done, against the policy: {broken.why}"
        found.append(_rule_reason(pack.rule(pack.breach_rule or ""), Verdict.incident, why))
    if facts.prompt or facts.request or facts.real:
        for data_id in facts.data if (facts.prompt or facts.request) else facts.real:
            data = classes[data_id]
            rule = pack.rule(data.rule)
            if data.in_prompt is Verdict.allowed:
                why = f"{data.name}: fine in an approved tool with your company account."
            else:
                why = f"{data.name} may not go into a prompt, in any tool."
            found.append(replace(_rule_reason(rule, data.in_prompt, why), steps=tuple(rule.steps)))
    for data_id in facts.data:
        data = classes[data_id]
        if data.on_code is not None:
            found.append(_rule_reason(pack.rule(data.rule), data.on_code, None))
    for rule, lifted in facts.triggered:
        if lifted:
            found.append(Reason(Verdict.allowed, rule.lifted or rule.question, (), rule))
        elif rule.verdict is not None:
            found.append(_rule_reason(rule, rule.verdict, None))
    for name, rule in facts.unlisted:
        why = f"*{escape(name)}* is not on the approved list."
        found.append(_rule_reason(rule, rule.verdict or Verdict.not_allowed, why))
    category = _riskiest(pack, categories, [tier])
    if category is not None:  # before the tools: among equals, the cell says more
        cell = pack.cell(category.id, tier.id)
        found.append(_cell_reason(pack, cell))
    for tool in facts.tools:
        found += _tool_reasons(pack, facts, tool, tier, floor=category is None)
    if facts.request and not any(r.verdict is Verdict.not_allowed for r in found):
        # Asking how to get an approved tool: the answer is how, and it is allowed.
        found = [r for r in found if r.verdict is not Verdict.not_allowed]
    return _strictest(found)


def _rule_reason(rule: Rule, verdict: Verdict, why: str | None) -> Reason:
    steps = tuple(rule.steps) or (first_sentence(rule.answer),)
    if why is None:
        why, steps = steps[0], steps[1:]
    return Reason(verdict=verdict, why=why, steps=steps, rule=rule)


def _tool_reasons(
    pack: PolicyPack, facts: Facts, tool: Tool, tier: Tier, *, floor: bool = False
) -> list[Reason]:
    """Whether `tool` may be used in `tier`. With `floor` (no category named) in a tier
    where every cell asks for review, the answer says so under the tool's approval."""
    name = f"*{short(tool.name)}*"
    where = ", ".join(short(pack.tier(t).name) for t in tool.tiers) or "no tier"
    if tool.status is ToolStatus.not_allowed:
        rule = next((r for r in pack.rules if r.id == "personal-accounts"), None)
        steps = tuple(rule.steps) if rule else ((tool.notes or ""),)
        return [
            Reason(
                Verdict.not_allowed,
                f"*{tool.name}* are never for company code or data.",
                steps,
                rule,
                tool=tool,
            )
        ]
    if tier.id not in tool.tiers:
        steps = (
            f"{short(tool.name)} is approved for: {where}.",
            "Use a tool approved for this tier, or ask #ai-coe for an exception.",
        )
        return [
            Reason(
                Verdict.not_allowed,
                f"{name} is not approved for *{short(tier.name)}* systems.",
                steps,
                tool=tool,
            )
        ]
    if tool.status is ToolStatus.pilot:
        rule = next((r for r in pack.rules if r.id == "pilot-tools"), None)
        if not facts.enrolled:  # not enrolled, or not said (asked about first)
            steps = tuple(rule.steps) if rule else ()
            return [
                Reason(
                    Verdict.not_allowed,
                    f"{name} is a pilot: only enrolled teams, in {where}.",
                    steps,
                    rule,
                    tool=tool,
                )
            ]
        return [
            Reason(
                Verdict.allowed,
                f"{name} is a pilot tool your team is enrolled in ({where}).",
                _config(tool),
                tool=tool,
            )
        ]
    steps = _config(tool)
    least = min((c for c in pack.matrix if c.tier == tier.id), key=_cell_rank)
    if floor and _cell_rank(least) > Verdict.allowed.rank:
        # the tool is approved here, but no change here goes without review: say so
        steps = (
            f"Every AI-assisted change in {short(tier.name)} systems is reviewed: "
            "`/ai-policy <tool> for <what the code does>` says how.",
            *steps,
        )
    return [
        Reason(
            Verdict.allowed,
            f"{name} is approved for *{short(tier.name)}* systems.",
            steps,
            tool=tool,
        )
    ]


def _cell_rank(cell: MatrixCell) -> int:
    return _decision_verdict(cell.decision).rank


def _config(tool: Tool) -> tuple[str, ...]:
    return (
        (f"Use it as configured: {first_sentence(tool.configuration[0], 160)}",)
        if tool.configuration
        else ()
    )


def _cell_reason(pack: PolicyPack, cell: MatrixCell) -> Reason:
    category, tier = pack.category(cell.category), pack.tier(cell.tier)
    steps = [f"Review: {cell.summary or first_sentence(cell.review, 180)}"]
    if cell.label_required:
        steps.append("Label the pull request AI-assisted.")
    why = f"*{short(category.name)}* code in {article(tier.name)} *{short(tier.name)}* system."
    return Reason(_decision_verdict(cell.decision), why, tuple(steps), cell=cell)


def _category_options(
    pack: PolicyPack, facts: Facts, tier: Tier, escape: Callable[[str], str]
) -> list[Option]:
    verdicts = {
        c.id: _verdict_of(_reasons(pack, facts, tier, [c], escape)) for c in pack.categories
    }
    if len(set(verdicts.values())) <= 1:
        return []
    return [
        Option("category", c.id, c.name, gist(c.description), verdict=verdicts[c.id])
        for c in reversed(pack.categories)
    ]
