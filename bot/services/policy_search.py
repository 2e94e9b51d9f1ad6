"""Understanding a policy question: which categories, tiers, tools and rules it is about.

`PolicyIndex` is built once per pack load and answers in well under a millisecond:
names, keywords and aliases become phrases of normalised tokens; a question is
tokenised the same way, synonyms are expanded, unknown words within a small edit
distance of a known keyword are corrected, and the longest phrases are matched first
so "customer data" is a category rather than the "customer" of a tier. Rules are
ranked by a BM25-style score over their keywords, question and answer.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA

from bot.services.policy_decide import Intent, Ruling, decide
from bot.services.policy_pack import Category, PolicyPack, Rule, Tier, Tool
from bot.services.policy_read import Facts, Reader, negated
from bot.views.common import escape
from bot.words import is_real

_WORD = re.compile(r"[a-z0-9]+")
_FOREIGN = re.compile(r"\w*[^\W\d_a-zA-Z]\w*")  # a word with a letter that is not a-z
MAX_PHRASE = 5
MAX_RULES = 3
COMMON_SHARE = 0.3
STOP_WORDS = frozenset(
    """
    a an and are as at be by can could do does for from how i if in into is it its may
    me might must my of on or our should so that the their them this to us use used
    using want we what when where which who why will with would you your am any there
    here about allowed allow ok okay please tell know need
    """.split()
)


# A word that is a version-control term after these ("the repo checkout", "a git branch"):
# it names no category (not the payments "checkout").
VCS_TERMS = frozenset({("repo", "checkout"), ("git", "checkout"), ("fresh", "checkout")})


class Outcome(StrEnum):
    overview = "overview"
    answered = "answered"
    ambiguous = "ambiguous"
    no_match = "no_match"


def normalise(word: str) -> str:
    """A light stemmer: plural and possessive endings only, so keywords stay readable."""
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def tokenize(text: str) -> list[str]:
    """Lower-case word tokens, plurals off; an apostrophe joins ("isn't" -> "isnt")."""
    joined = unicodedata.normalize("NFKC", text).lower().replace("'", "").replace("\u2019", "")
    return [normalise(w) for w in _WORD.findall(joined)]


@dataclass(frozen=True, slots=True)
class Hit:
    kind: str  # "category" | "tier" | "tool"
    id: str
    phrase: str
    corrected: bool


@dataclass(slots=True)
class PolicyAnswer:
    query: str
    outcome: Outcome
    categories: list[Category] = field(default_factory=list)
    tiers: list[Tier] = field(default_factory=list)
    tools: list[Tool] = field(default_factory=list)
    rules: list[Rule] = field(default_factory=list)
    corrections: dict[str, str] = field(default_factory=dict)
    suggestions: list[str] = field(default_factory=list)
    ruling: Ruling | None = None
    facts: Facts | None = None
    chosen: dict[str, str] = field(default_factory=dict)  # tier / category pressed
    unreadable: bool = False  # most words were not English, developer or pack words

    @property
    def intent(self) -> Intent:
        return self.ruling.intent if self.ruling else Intent.overview

    @property
    def verdict(self) -> str:
        """What the first line says: a `Verdict` value, "ask", or "none" (no ruling)."""
        if self.ruling is None:
            return "none"
        if self.ruling.ask:
            return "ask"
        return self.ruling.verdict.value if self.ruling.verdict else "none"

    def summary(self) -> dict[str, Any]:
        """What matched and what was decided, by id: the shape stored with each lookup."""
        ruling = self.ruling
        lead = ruling.lead if ruling else None
        decided_by = None
        if lead is not None:
            decided_by = (
                lead.rule.id
                if lead.rule
                else f"cell:{lead.cell.category}x{lead.cell.tier}"
                if lead.cell
                else f"tool:{lead.tool.id}"
                if lead.tool
                else None
            )
        return {
            "categories": [c.id for c in self.categories],
            "tiers": [t.id for t in self.tiers],
            "tools": [t.id for t in self.tools],
            "rules": [r.id for r in self.rules],
            "corrections": [f"{a}->{b}" for a, b in self.corrections.items()],
            "unlisted_tools": [name for name, _ in self.facts.unlisted] if self.facts else [],
            "data_classes": list(self.facts.data) if self.facts else [],
            "intent": self.intent.value,
            "verdict": self.verdict,
            "decided_by": decided_by,
            "tier": ruling.tier.id if ruling and ruling.tier else None,
            "tier_source": ruling.tier_source if ruling else None,
            "asked_for": ruling.ask[0].kind if ruling and ruling.ask else None,
            "chosen": dict(self.chosen),
        }


class PolicyIndex:
    """An in-memory index over one pack; immutable once built."""

    def __init__(self, pack: PolicyPack) -> None:
        self.pack = pack
        self._phrases: dict[tuple[str, ...], list[tuple[str, str]]] = defaultdict(list)
        for kind, items in (("category", pack.categories), ("tier", pack.tiers)):
            for item in items:
                self._add_phrases(kind, item.id, [item.id, item.name, *item.keywords])
        for tool in pack.tools:
            self._add_phrases("tool", tool.id, [tool.id, tool.name, *tool.aliases])
        self._synonyms = {
            normalise(k.lower()): tuple(tokenize(v)) for k, v in pack.synonyms.items()
        }
        self._keyword_vocab = sorted({t for p in self._phrases for t in p if len(t) >= 3})
        self._listed = frozenset(t for p in self._phrases for t in p)  # for negated lists
        self._build_rule_index(pack.rules)
        self._reader = Reader(pack, tokenize)
        self._known = (
            set(self._keyword_vocab)
            | set(self._rule_postings)
            | STOP_WORDS
            | set(self._synonyms)
            | self._reader.vocabulary
        )
        topics = [c.name for c in pack.categories] + [t.name for t in pack.tiers]
        topics += [t.name for t in pack.tools] + [r.question for r in pack.rules]
        self._topics = list(dict.fromkeys(topics))

    def _add_phrases(self, kind: str, item_id: str, texts: Iterable[str]) -> None:
        for text in texts:
            tokens = tuple(tokenize(text))
            if tokens and (kind, item_id) not in self._phrases[tokens]:
                self._phrases[tokens].append((kind, item_id))

    def _build_rule_index(self, rules: Sequence[Rule]) -> None:
        weighted: list[dict[str, float]] = []
        self._rule_keywords: list[frozenset[str]] = []
        self._rule_phrases: dict[tuple[str, ...], list[int]] = defaultdict(list)
        for index, rule in enumerate(rules):
            phrases = [tuple(tokenize(k)) for k in rule.keywords]
            single = frozenset(p[0] for p in phrases if len(p) == 1)
            self._rule_keywords.append(single)
            for phrase in {p for p in phrases if 1 < len(p) <= MAX_PHRASE}:
                self._rule_phrases[phrase].append(index)
            weights: dict[str, float] = defaultdict(float)
            for token in single:
                weights[token] += 3.0
            for phrase in phrases:
                for token in phrase if len(phrase) > 1 else ():
                    weights[token] += 1.0
            for text, weight in ((rule.question, 1.5), (rule.answer, 0.5)):
                for token in tokenize(text):
                    weights[token] += weight
            weighted.append({t: w for t, w in weights.items() if t not in STOP_WORDS})
        count = max(len(rules), 1)
        postings: dict[str, list[tuple[int, float]]] = defaultdict(list)
        for index, weights in enumerate(weighted):
            for token, tf in weights.items():
                postings[token].append((index, tf))
        self._rule_postings: dict[str, list[tuple[int, float]]] = {}
        for token, items in postings.items():
            if len(items) > max(count * COMMON_SHARE, 3):
                continue  # in too many rules to tell them apart: "code", "ai", "use"
            idf = math.log(1 + (count - len(items) + 0.5) / (len(items) + 0.5))
            self._rule_postings[token] = [(i, idf * tf * 2.2 / (tf + 1.2)) for i, tf in items]

    # -- answering --------------------------------------------------------------------

    def answer(
        self,
        query: str,
        *,
        tier: str | None = None,
        category: str | None = None,
        team_tier: str | None = None,
        enrolled: bool | None = None,
    ) -> PolicyAnswer:
        """Understand `query` and rule on it. `tier`/`category`/`enrolled`: choices
        pressed on an ask-back (ids; unknown ids are ignored); `team_tier`: the asker's
        team default."""
        text = query.strip()
        if not text:
            return PolicyAnswer(query=query, outcome=Outcome.overview)
        tokens, corrections, read, unread, foreign = self._prepare(text)
        if unread >= 2 and (unread > 2 * read or (foreign and unread > read)):
            # another language, or noise: say so rather than guess
            return PolicyAnswer(
                query=query,
                outcome=Outcome.no_match,
                suggestions=self.closest_topics(text),
                unreadable=True,
            )
        hits = self._match_phrases(tokens, corrections)
        rules = self._rank_rules(tokens)
        inside = self._reader.trigger_phrases(tokens)
        by_kind: dict[str, list[str]] = defaultdict(list)
        for hit in hits:
            if hit.kind in {"category", "tool"} and any(hit.phrase in p for p in inside):
                continue  # "skip permissions" is an agent setting, not access-control code
            if hit.id not in by_kind[hit.kind]:
                by_kind[hit.kind].append(hit.id)
        pack = self.pack
        answer = PolicyAnswer(
            query=query,
            outcome=Outcome.answered,
            categories=[c for c in pack.categories if c.id in by_kind["category"]],
            tiers=[t for t in pack.tiers if t.id in by_kind["tier"]],
            tools=[t for t in pack.tools if t.id in by_kind["tool"]],
            rules=rules,
            corrections=corrections,
        )
        facts = self._reader.read(
            text,
            tokens,
            tools=answer.tools,
            tiers=answer.tiers,
            categories=answer.categories,
            known=self.knows,
        )
        tier_ids = {t.id for t in pack.tiers}
        category_ids = {c.id for c in pack.categories}
        ruling = decide(
            pack,
            facts,
            escape=escape,
            tier=tier if tier in tier_ids else None,
            category=category if category in category_ids else None,
            team_tier=team_tier,
            enrolled=enrolled,
            ranked=rules,
        )
        answer.facts, answer.ruling = facts, ruling
        answer.chosen = {
            key: value
            for key, value in (("tier", tier), ("category", category))
            if value in (tier_ids if key == "tier" else category_ids)
        }
        if enrolled is not None:
            answer.chosen["pilot"] = "yes" if enrolled else "no"
        if ruling.ask:
            answer.outcome = Outcome.ambiguous
        elif ruling.intent is Intent.unknown and not rules and not ruling.reasons:
            answer.outcome = Outcome.no_match
            answer.suggestions = self.closest_topics(text)
        return answer

    def knows(self, word: str) -> bool:
        """Whether a word means something here: the pack's, English or developer vocabulary."""
        return normalise(word) in self._known or is_real(word)

    def _prepare(self, text: str) -> tuple[list[str], dict[str, str], int, int, int]:
        """(tokens, corrections, words read, words not read, foreign words): a word is read
        when it is the pack's, English or developer vocabulary, or corrected to a keyword;
        a foreign word has a letter outside a-z ("clé", "einfügen") and is not read."""
        tokens: list[str] = []
        corrections: dict[str, str] = {}
        read = unread = 0
        for raw in tokenize(text):
            if raw in self._synonyms:
                tokens.extend(self._synonyms[raw])
                read += 1
                continue
            known = raw in self._known or is_real(raw)
            if known or len(raw) < 5 or raw.isdigit():
                tokens.append(raw)
                if len(raw) >= 3 and not raw.isdigit():
                    read, unread = read + known, unread + (not known)
                continue
            fixed = self._correct(raw)
            if fixed:
                corrections[raw] = fixed
                read += 1
            else:
                unread += 1
            tokens.append(fixed or raw)
        foreign = len(_FOREIGN.findall(unicodedata.normalize("NFKC", text)))
        return tokens, corrections, read, unread + foreign, foreign

    def _correct(self, word: str) -> str | None:
        cutoff = 1 if len(word) < 8 else 2
        best = process.extractOne(
            word, self._keyword_vocab, scorer=OSA.distance, score_cutoff=cutoff
        )
        return str(best[0]) if best else None

    def _match_phrases(self, tokens: list[str], corrections: dict[str, str]) -> list[Hit]:
        hits: list[Hit] = []
        corrected = set(corrections.values())
        i = 0
        while i < len(tokens):
            for size in range(min(MAX_PHRASE, len(tokens) - i), 0, -1):
                phrase = tuple(tokens[i : i + size])
                if size == 1 and (
                    phrase[0] in STOP_WORDS or (i > 0 and (tokens[i - 1], phrase[0]) in VCS_TERMS)
                ):
                    continue
                targets = self._phrases.get(phrase)
                if targets and negated(tokens, i, listed=self._listed):
                    i += size
                    break
                if targets:
                    fixed = any(t in corrected for t in phrase)
                    hits += [Hit(k, item, " ".join(phrase), fixed) for k, item in targets]
                    if size > 1 and all(k == "tier" for k, _ in targets):
                        hits += self._categories_within(phrase)  # "signup page": signup
                    i += size
                    break
            else:
                i += 1
        return hits

    def _categories_within(self, phrase: tuple[str, ...]) -> list[Hit]:
        """Category phrases among a tier phrase's modifiers (every word but the last, the
        head noun): "signup page" says where the code runs (customer-facing) and what it
        does (security-critical) at once; "hipaa cluster" names only a place."""
        found: list[Hit] = []
        modifiers = len(phrase) - 1
        for size in range(modifiers, 0, -1):
            for start in range(modifiers - size + 1):
                sub = phrase[start : start + size]
                for kind, item in self._phrases.get(sub, ()):
                    if kind == "category" and all(h.id != item for h in found):
                        found.append(Hit(kind, item, " ".join(sub), False))
        return found

    def _rank_rules(self, tokens: list[str]) -> list[Rule]:
        """BM25-style ranking; a rule counts only when one of its keywords matched or the
        question shares at least two words with it, so one stray word matches nothing."""
        scores: dict[int, float] = defaultdict(float)
        shared: dict[int, int] = defaultdict(int)
        query = {t for t in tokens if t not in STOP_WORDS}
        for token in query:
            for index, score in self._rule_postings.get(token, ()):
                scores[index] += score
                shared[index] += 1
        phrase_hits: dict[int, int] = defaultdict(int)
        for size in range(2, MAX_PHRASE + 1):
            for start in range(len(tokens) - size + 1):
                for index in self._rule_phrases.get(tuple(tokens[start : start + size]), ()):
                    phrase_hits[index] += 1
        relevant: dict[int, float] = {}
        for index, score in scores.items():
            hits = phrase_hits.get(index, 0)
            if hits or shared[index] >= 2 or query & self._rule_keywords[index]:
                relevant[index] = score + 3.0 * hits
        if not relevant:
            return []
        ranked = sorted(relevant.items(), key=lambda item: (-item[1], item[0]))
        top = ranked[0][1]
        if top < 2.0:
            return []
        return [self.pack.rules[i] for i, s in ranked[:MAX_RULES] if s >= top * 0.45]

    def closest_topics(self, text: str, limit: int = 3) -> list[str]:
        found = process.extract(text, self._topics, scorer=fuzz.token_set_ratio, limit=limit)
        return [str(match[0]) for match in found]
