"""Reading a policy question: the facts it names, with the pack's words and English cues.

`Reader` is built once per pack (inside `PolicyIndex`). `Reader.read` finds tools (the
pack's, unlisted ones, unknown ones), personal plans, tiers and tier hints, categories,
data classes (and which of them are neutralised by a safe word beside them, or called
"real"), rule triggers (`triggers`, `together`, `unless`), and cues of an incident, a
request, pasting into a prompt and pilot enrolment. Negations reach only the phrase they
negate. Pure and fast: `policy_decide.decide` turns the facts into a ruling.
"""

from __future__ import annotations

import functools
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from bot.services.policy_pack import (
    Category,
    PolicyPack,
    Rule,
    Tier,
    Tool,
    Verdict,
)

MAX_PHRASE = 5

# Cue words are English, not policy: they say *how* something is asked.
# An incident: a sensitive data class and one of these. Strong cues count anywhere...
INCIDENT_CUES = frozenset(
    "accidentally accidently accidental accident mistake mistakenly inadvertently "
    "unintentionally oops whoops leaked leak exposed unredacted realised realized noticed "
    "flagged forgot forgotten committed".split()
)
# ...past-tense ones ("pasted", "dumped", any "-ed" verb) only outside a question asking
# permission: "the customer *sent* an invoice, can I paste it?" is not an incident.
PAST_CUES = frozenset(
    "pasted catted slipped committed uploaded gave shared sent fed dumped copied typed posted used "
    "indexed printed pushed dropped included includes attached found quoted lifted showed ran "
    "read put contains contained went yesterday earlier already uh oh had knows seen saw did left "
    "was were".split()
)
NOT_PAST = frozenset(
    "hundred failed enforced "
    "need allowed approved based hosted related generated masked redacted regulated "
    "required scoped controlled unrelated detailed advanced speed feed embed seed red "
    "managed signed licensed supported preferred limited trusted marked named persisted "
    "reported embedded automated distributed nested scheduled needed expected interested "
    "concerned supposed used".split()
)
# A credential written out: GitHub, AWS, Slack, Stripe, OpenAI, Google key shapes, PEM blocks,
# HTTP auth headers, and KEY=long-value assignments.
LITERAL_SECRET = re.compile(
    r"\b(?:ghp_|gho_|ghs_|github_pat_|xox[abprs]-|sk_live_|rk_live_|sk-[A-Za-z0-9]{16}|AKIA"
    r"[0-9A-Z]{12}|AIza[0-9A-Za-z_-]{20})|-----BEGIN [A-Z ]*PRIVATE KEY-----|"
    r"\bAuthorization:\s*(?:Basic|Bearer)\s+\S{8,}|\b[A-Z][A-Z0-9_]*(?:SECRET|TOKEN|PASSWORD|KEY)"
    r"[A-Z0-9_]*\s*=\s*(?![<$]|\{\{|xxx|\*\*\*|changeme)\S{12,}"  # not a placeholder
)
# Past forms that are also adjectives: a deed only when an object follows ("shared the key
# with", "shared it"), not before a noun ("a shared lib", "the shared drive").
ADJECTIVES = frozenset({"shared"})
OBJECTS = frozenset("it them this that the a an my our their his her some with into to in".split())
REAL_CUES = frozenset("real actual live production prod unmasked unredacted raw".split())
# A data word naming a feature of code, not data handed over: "password *reset* flow",
# "the token *refresh* handler", "api key *rotation*", "the password-*policy* doc".
FEATURE_NOUNS = frozenset(
    "reset resets flow flows policy policies field fields form forms validator validators "
    "validation validations rotation rotations hashing hasher strength complexity "
    "requirements refresh refreshes expiry scanner scanning screen screens page pages "
    "handler handlers endpoint endpoints logic component components widget".split()
)
PERMISSION = (
    ("can", "i"),
    ("can", "we"),
    ("may", "i"),
    ("ok", "to"),
    ("okay", "to"),
    ("fine", "to"),
    ("allowed", "to"),
    ("is", "it", "ok"),
    ("is", "it", "fine"),
    ("can", "ai"),
    ("can", "that"),
    ("can", "it"),
    ("can", "this"),
)
# Asking whether something already done was fine: "is it ok that i pasted ...".
DONE_PERMISSION = (
    *(
        (word, "that", who)
        for word in ("ok", "okay", "fine", "alright", "bad")
        for who in ("i", "we")
    ),
    ("was", "that", "allowed"),
    ("was", "that", "ok"),
    ("was", "this", "allowed"),
)
# A question opening with a modal ("can cc have read access ...", "should the agent ...")
# or an instruction ("put the api key in the prompt so ...") asks before doing it.
ASKING_OPENERS = [[w] for w in "can could may should paste upload put give".split()]
INCIDENT_PHRASES = (
    ("what", "should", "i", "do"),
    ("this", "morning"),
    ("last", "month"),
    ("last", "week"),
    ("for", "month"),
    ("been", "pasting"),
    ("been", "using"),
    ("been", "running"),
    ("is", "now"),
    ("sitting", "in"),
    ("what", "do", "we", "do"),
    ("need", "to", "rotate"),
    ("need", "to", "report"),
    ("next", "step"),
    ("who", "do", "we", "call"),
    ("what", "now"),
    ("now", "what"),
    ("what", "do", "i", "do"),
    ("ended", "up"),
    ("went", "out"),
    ("how", "bad"),
    ("is", "that", "a", "problem"),
    ("big", "deal"),
    ("oh", "no"),
)
# Pasting into a prompt: these words say so on their own...
PROMPT_CUES = frozenset(
    "paste pasting pasted upload uploading uploaded feed feeding screenshot prompt prompting "
    "prompted chat "
    "transcript context".split()
)
# ...these only right before or after a tool's name: "give chatgpt", "into cursor",
# "share it with codex" (not "backfill user emails into the new column").
NEAR_TOOL_CUES = frozenset(
    "into give giving gave put putting send sending sent drop dropping "
    "share sharing shared with to dump dumped fed".split()
)
USE_VERBS = frozenset("use using have let ask get try run".split())
# Words quoted as code (`InvalidTokenSignature: token expired`) are code, not data named.
CODE_SPAN = re.compile(r"`[^`]*`")
REQUEST_CUES = frozenset(
    "request requesting exception exemption seat process getting procure procurement".split()
)
# The asker doubts the tier they name ("not sure if it's sox scoped", "might be in the
# cde, might not"): the named tier is possible, not given, so the others stay possible too.
DOUBT_PHRASES = (
    ("not", "sure", "if"),
    ("not", "sure", "whether"),
    ("not", "100", "sure"),
    ("not", "certain"),
    ("unsure", "if"),
    ("unsure", "whether"),
    ("idk", "if"),
    ("idk", "whether"),
    ("dunno", "if"),
    ("might", "be"),
    ("might", "not"),
    ("may", "or", "may", "not"),
    ("or", "not"),
)
REQUEST_PHRASES = (
    ("how", "do", "i", "get"),
    ("how", "do", "we", "get"),
    ("how", "to", "get"),
    ("how", "can", "i", "get"),
    ("how", "can", "we", "get"),
    ("get", "approved"),
    ("get", "into"),
    ("join", "the"),
    ("can", "we", "expense"),
    ("can", "i", "expense"),
    ("join", "a"),
    ("join", "pilot"),
    ("get", "in"),
    ("access", "to"),
    ("who", "do", "i", "ask"),
    ("who", "do", "i", "talk", "to"),
    ("who", "do", "we", "talk", "to"),
    ("who", "should", "i", "talk", "to"),
    ("who", "do", "i", "contact"),
    ("sign", "up"),
    ("added", "to", "the", "allowlist"),
    ("add", "it", "to", "the", "allowlist"),
    ("on", "to", "the", "allowlist"),
    ("who", "approves"),
    ("to", "the", "allowlist"),
    ("how", "do", "i", "ask"),
)
RULES_CUES = frozenset("rule policy know tldr summary guideline guidelines road basics".split())
# A general question that names a tool is about the policy, not the tool's approval: "do I
# need AI training before I use copilot?", "what if copilot copies GPL code?".
GENERAL_CUES = frozenset(
    "training trained train licence license licences licenses licensing copyright gpl "
    "retention retain guidance difference".split()
)
# A named piece of code ("the onboarding wizard"): without a tool, enough to assume the
# default category; "write code" alone is not (the category is asked).
ARTEFACT_CUES = frozenset(
    "method screen job function endpoint feature bug module program migration handler "
    "consumer model route query logic calc calculation script wizard stubs exporter importer "
    "toggle parser component widget form page".split()
)
# A change to code, for assuming the pack's default category when a tool is named too.
WORK_CUES = ARTEFACT_CUES | frozenset(
    "write writing add adding fix fixing implement implementing build building refactor "
    "refactoring change changing generate generating create creating compute computes "
    "draft drafting sql".split()
)
TRANSFORM_CUES = frozenset(
    "turn convert summarise summarize analyse analyze parse read clean explain dedupe".split()
)
CODE_CUES = frozenset(
    "code write writing generate generating refactor refactoring implement build change "
    "changes fix fixing".split()
)
ENROLLED_CUES = frozenset({"pilot", "piloting", "enrolled", "enroled", "enrollment"})
GENERIC_AI = frozenset(
    "ai llm genai assistant assistants copilots tool tools coding policy policies rule rules "
    "tldr summary overview approved".split()
)
TOOL_QUESTION = re.compile(
    r"\b(?:can\s+(?:i|we)\s+(?:use|try|install)|is|are|using|use|try|install)\s+"
    r"(?:the\s+)?([a-z][a-z0-9.+-]{2,24})\b"
    # "anyone know if zencoder is allowed?"
    r"|\b(?:if|whether)\s+([a-z][a-z0-9.+-]{2,24})\s+(?:is|are)\s+"
    r"(?:allowed|approved|ok|okay|fine|permitted|banned|legit)\b"
)
# "Harness AI", "the AI in Notion": a capitalised name beside "AI" is a product, unless the
# name is an ordinary word of a question ("Can AI…", "Let AI…").
BRANDED_AI = re.compile(r"\b([A-Z][\w.+-]{1,24})\s+AI\b|\bAI\s+in\s+([A-Z][\w.+-]{1,24})\b")
NOT_A_BRAND = frozenset(
    "the an any our my your their this that these those gen generative open responsible "
    "agentic conversational new other some using use used with without for from into of on "
    "in to by at is are be been was were do does did can could should would will may might "
    "must let have has had get got make allow allowed approved permit permitted local company "
    "internal enterprise coding code no not what which whose who how why when where all more "
    "most only just also any each every both we you they i it us them free paid personal "
    "public private cloud good best safe and or if so than then please pls hey hi ok okay".split()
)
NOT_A_TOOL = frozenset(
    "it this that there ai my our the a an ok okay fine allowed approved using use allowed "
    "safe legal possible required".split()
)


@dataclass(frozen=True, slots=True)
class Facts:
    """What one question names, by pack id (or as typed, for tools the pack lacks)."""

    tokens: tuple[str, ...]
    tools: tuple[Tool, ...]
    unlisted: tuple[tuple[str, Rule], ...]  # (name as asked, rule that answers for it)
    tiers: tuple[Tier, ...]
    hinted: tuple[Tier, ...]
    doubted: tuple[Tier, ...]  # named in doubt: "not sure if it's internal or customer facing"
    categories: tuple[Category, ...]
    data: tuple[str, ...]  # data class ids, after neutralising
    sensitive: bool  # a data class that may not go into a prompt
    real: tuple[str, ...]  # data classes called real / production, or written out
    triggered: tuple[tuple[Rule, bool], ...]  # (rule, lifted by an `unless` phrase)
    incident: bool
    prompt: bool
    request: bool
    enrolled: bool | None  # in a pilot: said so, said not, or not said
    generic: bool


class _Phrases:
    """Longest-first phrase matching over normalised tokens, for one family of phrases."""

    def __init__(self) -> None:
        self._map: dict[tuple[str, ...], list[str]] = defaultdict(list)

    def add(self, phrase: Sequence[str], target: str) -> None:
        key = tuple(phrase)
        if key and target not in self._map[key]:
            self._map[key].append(target)

    def phrases(self) -> list[tuple[str, ...]]:
        return list(self._map)

    def spans(
        self, tokens: Sequence[str], *, negatable: bool = False
    ) -> list[tuple[int, int, str]]:
        """(start, end, target) for each match, longest first, not overlapping; with
        `negatable`, a phrase negated right before ("no creds or secrets") does not count."""
        found: list[tuple[int, int, str]] = []
        words = self.words
        i = 0
        while i < len(tokens):
            for size in range(min(MAX_PHRASE, len(tokens) - i), 0, -1):
                targets = self._map.get(tuple(tokens[i : i + size]))
                if targets:
                    if not (negatable and negated(tokens, i, listed=words)):
                        found += [(i, i + size, t) for t in targets]
                    i += size
                    break
            else:
                i += 1
        return found

    @functools.cached_property
    def words(self) -> frozenset[str]:
        return frozenset(t for phrase in self._map for t in phrase)

    def places(self, tokens: Sequence[str]) -> list[int]:
        """Where each match starts."""
        return [start for start, _, _ in self.spans(tokens)]

    def find(self, tokens: Sequence[str], *, negatable: bool = False) -> list[tuple[str, str]]:
        """(phrase as text, target) for each match."""
        return [(" ".join(tokens[a:b]), t) for a, b, t in self.spans(tokens, negatable=negatable)]


NEGATIONS = frozenset(
    "no without non zero not nothing isn isnt aren arent don dont havent hasnt wasnt werent "
    "didnt".split()
)
# A negation reaches over these to the phrase it negates ("with no creds or secrets")...
FILLERS = frozenset("the a an any our my your their or and other of".split())
# ...and stops at these ("no secrets, only customer emails"; "without masking the emails").
SCOPE_BREAKS = frozenset("only but except just however though although yet".split())


def negated(
    tokens: Sequence[str], start: int, window: int = 4, listed: frozenset[str] = frozenset()
) -> bool:
    """Whether the phrase at `start` is negated: a negation within `window` words before
    it, with only fillers or other `listed` words (a list of the same kind) between."""
    for i in range(start - 1, max(-1, start - 1 - window), -1):
        token = tokens[i]
        after = list(tokens[i + 1 : i + 3])
        if token in NEGATIONS and (after[:1] == ["retention"] or after == ["data", "retention"]):
            return False  # "zero retention for chatgpt": a plan's name, not a negation
        if token in NEGATIONS:
            return True
        if token in SCOPE_BREAKS or (token not in FILLERS and token not in listed):
            return False
    return False


def _has_unnegated(tokens: Sequence[str], phrase: Sequence[str]) -> bool:
    size = len(phrase)
    return any(
        tuple(tokens[i : i + size]) == tuple(phrase)
        and not any(t in NEGATIONS for t in tokens[max(0, i - 3) : i])
        for i in range(len(tokens) - size + 1)
    )


def _has_phrase(tokens: Sequence[str], phrase: Sequence[str]) -> bool:
    size = len(phrase)
    return any(tuple(tokens[i : i + size]) == tuple(phrase) for i in range(len(tokens) - size + 1))


class Reader:
    """The pack's words for data classes, triggers, unlisted tools and tier hints."""

    def __init__(self, pack: PolicyPack, tokenize: Callable[[str], list[str]]) -> None:
        self.pack = pack
        self._tokenize = tokenize
        self._data = _Phrases()
        for data in pack.data_classes:
            for word in data.keywords:
                self._data.add(tokenize(word), data.id)
        self._triggers = _Phrases()
        self._unless: dict[str, list[tuple[str, ...]]] = {}
        self._together = [
            (rule, [[tuple(tokenize(w)) for w in group] for group in rule.together])
            for rule in pack.rules
            if rule.together
        ]
        for rule in pack.rules:
            for word in rule.triggers:
                self._triggers.add(tokenize(word), rule.id)
            self._unless[rule.id] = [tuple(tokenize(w)) for w in rule.unless]
        self._unlisted = _Phrases()
        self._unlisted_names: dict[str, str] = {}  # as tokenised -> as the pack writes it
        for group in pack.unlisted_tools:
            for name in group.names:
                self._unlisted.add(tokenize(name), group.rule)
                self._unlisted_names[" ".join(tokenize(name))] = name
        self._hints = _Phrases()
        for tier in pack.tiers:
            for word in tier.hints:
                self._hints.add(tokenize(word), tier.id)
        self._rules = {r.id: r for r in pack.rules}
        self._classes = {d.id: d for d in pack.data_classes}
        self._neutralisable = {t for d in pack.data_classes for t in d.neutralises}
        # Words the pack gives meaning here: never "corrected" as typos.
        self.vocabulary = frozenset(
            token
            for family in (self._data, self._triggers, self._unlisted, self._hints)
            for phrase in family.phrases()
            for token in phrase
        )
        named: list[str] = [t.id for t in pack.tiers] + [c.id for c in pack.categories]
        for tier in pack.tiers:
            named += [tier.name, *tier.keywords]
        for category in pack.categories:
            named += [category.name, *category.keywords]
        for tool in pack.tools:
            named += [tool.name, *tool.aliases]
        self._pack_words = frozenset(token for text in named for token in tokenize(text))
        self._tool_names = _Phrases()  # where tools are named, for NEAR_TOOL_CUES
        for tool in pack.tools:
            for name in (tool.name, *tool.aliases):
                self._tool_names.add(tokenize(name), tool.id)
        for group in pack.unlisted_tools:
            for name in group.names:
                self._tool_names.add(tokenize(name), group.rule)

    def is_pack_word(self, word: str) -> bool:
        """A tier, category or tool word of the pack ("regulated ai", "copilot ai")."""
        return word in self._pack_words

    def trigger_phrases(self, tokens: Sequence[str]) -> list[str]:
        """The rule-trigger phrases in `tokens`, as text."""
        return [phrase for phrase, _ in self._triggers.find(tokens, negatable=True)]

    def read(
        self,
        text: str,
        tokens: Sequence[str],
        *,
        tools: Iterable[Tool],
        tiers: Iterable[Tier],
        categories: Iterable[Category],
        known: Callable[[str], bool],
    ) -> Facts:
        """The facts in one question; `tokens` are the index's (synonyms expanded, typos
        corrected) and `known(word)` says whether a word means something to the pack."""
        pack = self.pack
        tools = tuple(tools)
        words = set(tokens)
        found_data, real = self._data_classes(_outside_code(text, tokens))
        if LITERAL_SECRET.search(text):
            literal = {d.id for d in pack.data_classes if d.literal}
            found_data |= literal
            real |= literal
        triggered: list[tuple[Rule, bool]] = []
        request = any(
            t in REQUEST_CUES and (i == 0 or tokens[i - 1] not in {"pull", "merge", "feature"})
            for i, t in enumerate(tokens)
        ) or any(_has_phrase(tokens, p) for p in REQUEST_PHRASES)
        for _, rule_id in self._triggers.find(tokens, negatable=True):
            # "on the allowlist" lifts the MCP rule; "how do I get on the allowlist" doesn't
            lifted = not request and any(_has_phrase(tokens, p) for p in self._unless[rule_id])
            if all(r.id != rule_id for r, _ in triggered):
                triggered.append((self._rules[rule_id], lifted))
        for rule, groups in self._together:
            if all(any(_has_unnegated(tokens, p) for p in group) for group in groups) and all(
                r.id != rule.id for r, _ in triggered
            ):
                lifted = any(_has_phrase(tokens, p) for p in self._unless[rule.id])
                triggered.append((rule, lifted and not request))
        unlisted = [
            (self._unlisted_names.get(phrase, phrase), self._rules[rule])
            for phrase, rule in self._unlisted.find(tokens)
        ]
        if not tools and not unlisted and pack.unknown_tool_rule:
            rule = self._rules[pack.unknown_tool_rule]
            for name in _tool_names(text.lower()):
                if not known(name):
                    unlisted.append((name, rule))
                    break
            for before, after in BRANDED_AI.findall(text):
                brand = before or after
                if brand.lower() not in NOT_A_BRAND and not self.is_pack_word(brand.lower()):
                    unlisted.append((f"{brand} AI" if before else f"the AI in {brand}", rule))
                    break
        hinted = {t for _, t in self._hints.find(tokens, negatable=True)}
        tiers = tuple(tiers)
        doubted: tuple[Tier, ...] = ()
        if tiers and any(_has_phrase(tokens, p) for p in DOUBT_PHRASES):
            hinted |= {t.id for t in tiers}
            tiers, doubted = (), tiers
        return Facts(
            tokens=tuple(tokens),
            tools=tools,
            unlisted=tuple({name: (name, rule) for name, rule in unlisted}.values()),
            tiers=tiers,
            hinted=tuple(t for t in pack.tiers if t.id in hinted),
            doubted=doubted,
            categories=tuple(categories),
            data=tuple(d.id for d in pack.data_classes if d.id in found_data),
            real=tuple(d for d in found_data if d in real),
            sensitive=any(self._classes[d].in_prompt is not Verdict.allowed for d in found_data),
            triggered=tuple(triggered),
            incident=_incident(tokens, words),
            prompt=bool(words & PROMPT_CUES) or self._near_tool(text, tokens, unlisted),
            request=request,
            enrolled=_enrolled(tokens, request),
            generic=bool(words & GENERIC_AI),
        )

    def _data_classes(self, tokens: Sequence[str]) -> tuple[set[str], set[str]]:
        """(the data classes named, those of them called "real" or "production", which
        apply without a paste cue), less those a safe class right beside them neutralises
        ("masked customer data", "secrets redacted"): within three words, and not when the
        data is called real ("test data copied from *production* customer records")."""
        spans = self._data.spans(tokens, negatable=True)
        found: set[str] = set()
        called_real: set[str] = set()
        safe_ends: list[int] = []  # where neutralised data ends: a list goes on after it
        for start, end, target in spans:
            if tokens[end : end + 1] and tokens[end] in FEATURE_NOUNS:
                continue  # "password reset flow": code about the data
            real = (
                start > 0
                and tokens[start - 1] in REAL_CUES
                and not (start > 1 and tokens[start - 2] in NEGATIONS)  # "no actual passwords"
            )
            neutral = not real and any(
                target in self._classes[other].neutralises
                and o_start <= end + 3
                and o_end >= start - 3
                for o_start, o_end, other in spans
            )
            # "strip the user ids and session tokens": the list shares its neutraliser
            listed = target in self._neutralisable and any(
                0 < start - e <= 3 and tokens[e] in {"and", "or", "plus", "&"} for e in safe_ends
            )
            if not real and (neutral or listed):
                safe_ends.append(end)
                continue
            found.add(target)
            if real:
                called_real.add(target)
        return found, called_real

    def _near_tool(
        self, text: str, tokens: Sequence[str], unlisted: Sequence[tuple[str, Rule]]
    ) -> bool:
        """A NEAR_TOOL_CUES word at most three words before a tool's name."""
        places = self._tool_names.places(tokens)
        places += [
            i
            for i, t in enumerate(tokens)
            if t in {"ai", "llm", "chatbot", "assistant", "agent", "model"}
        ]
        places += [i for i, t in enumerate(tokens) if any(t == n for n, _ in unlisted)]
        if "->" in text and places:
            return True
        for i, token in enumerate(tokens):
            if token == "to" and tokens[i + 1 : i + 2] and tokens[i + 1] in USE_VERBS:
                continue  # "ok to use cursor to rename vars": using it, not handing it data
            if token in NEAR_TOOL_CUES and any(0 < p - i <= 3 for p in places):
                return True
        # "get the AI to turn a dump of prod orders into fixtures": the data goes in
        return any(
            tokens[p + 1 : p + 2] == ["to"]
            and tokens[p + 2 : p + 3]
            and tokens[p + 2] in TRANSFORM_CUES
            for p in places
        )


def _incident(tokens: Sequence[str], words: set[str]) -> bool:
    """Whether the question tells of something already done (to a sensitive class)."""
    if words & INCIDENT_CUES or any(_has_phrase(tokens, p) for p in INCIDENT_PHRASES):
        return True
    if list(tokens[-1:]) == ["bad"]:  # "... pasted it into copilot chat ... bad?"
        return True
    if any(_has_phrase(tokens, p) for p in DONE_PERMISSION):  # "is it ok that i pasted ..."
        return True
    if any(_has_phrase(tokens, p) for p in PERMISSION) or tokens[:1] in ASKING_OPENERS:
        return False
    past = {
        t
        for i, t in enumerate(tokens)
        if len(t) > 4
        and t.endswith("ed")
        and t not in NOT_PAST
        and not _stated(tokens, i)
        and not _adjective(tokens, i)
    }
    said = {
        t
        for i, t in enumerate(tokens)
        if t in PAST_CUES
        and tokens[i + 1 : i + 2] != ["only"]  # "read-only" is not "read"
        and not _adjective(tokens, i)
    }
    return bool(said or past)


def _adjective(tokens: Sequence[str], i: int) -> bool:
    """Whether the past form at `i` is an adjective before a noun ("a *shared* lib", "the
    shared drive"), not a deed ("shared it with", "shared the key")."""
    following = tokens[i + 1 : i + 2]
    return tokens[i] in ADJECTIVES and bool(following) and following[0] not in OBJECTS


def _stated(tokens: Sequence[str], i: int) -> bool:
    """Whether the participle at `i` describes a state, not a deed: "cursor *with* privacy
    mode turned off", "with auto-approve switched on" (a "with" among the four words
    before it, no subject between)."""
    before = tokens[max(0, i - 4) : i]
    if "with" not in before:
        return False
    after_with = before[len(before) - before[::-1].index("with") :]
    return not set(after_with) & {"i", "we", "they", "he", "she", "someone", "you"}


def _enrolled(tokens: Sequence[str], request: bool) -> bool | None:
    """ "we're in the pilot" True; "not in the pilot" or asking to join False; else None."""
    if request:
        return False
    said = [
        not any(w in NEGATIONS for w in tokens[max(0, i - 5) : i])
        for i, t in enumerate(tokens)
        if t in ENROLLED_CUES
    ]
    return any(said) if said else None


def _tool_names(text: str) -> list[str]:
    return [
        m
        for m in (a or b for a, b in TOOL_QUESTION.findall(text))
        if m not in NOT_A_TOOL and m not in GENERIC_AI and not m.startswith(("ai-", "ai."))
    ]


def _outside_code(text: str, tokens: Sequence[str]) -> list[str]:
    """`tokens` without the words that appear only inside backtick-quoted code: an error
    message or a snippet names no data class ("`token expired`"). A credential written out
    in full is still found by LITERAL_SECRET on the whole text."""
    quoted = set(re.findall(r"[a-z0-9]+", " ".join(CODE_SPAN.findall(text.lower()))))
    if not quoted:
        return list(tokens)
    outside = re.findall(r"[a-z0-9]+", CODE_SPAN.sub(" ", text.lower()))
    left = {word: outside.count(word) for word in quoted}  # as often as said outside quotes
    kept = []
    for token in tokens:
        if token in left:
            if left[token] <= 0:
                continue
            left[token] -= 1
        kept.append(token)
    return kept
