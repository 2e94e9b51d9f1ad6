"""Real words: never treated as typos by `/ai-policy` or `/prompts`.

A word is a possible typo only when it is absent from the English frequency dictionary that
ships with symspellpy (82,765 words, counts from Google Books n-grams; every entry is above
`FLOOR`), from `dev_words.txt` (developer vocabulary an English dictionary lacks: yaml, k8s,
dbt, …), and from the caller's own vocabulary (the policy pack's or the prompt library's).
Loaded once per process (about 50 ms).
"""

from __future__ import annotations

from functools import cache
from importlib import resources

FLOOR = 10_000  # occurrences in the dictionary's corpus; its rarest entries are about 12,000


@cache
def real_words() -> frozenset[str]:
    """Lower-case English and developer words. Raises OSError if a shipped list is missing."""
    words: set[str] = set()
    english = resources.files("symspellpy") / "frequency_dictionary_en_82_765.txt"
    for line in english.read_text(encoding="utf-8").splitlines():
        word, _, count = line.partition(" ")
        if count.strip().isdigit() and int(count) >= FLOOR:
            words.add(word.lower())
    developer = resources.files("bot.words") / "dev_words.txt"
    for line in developer.read_text(encoding="utf-8").splitlines():
        if not line.startswith("#"):
            words.update(line.lower().split())
    return frozenset(words)


def is_real(word: str) -> bool:
    """Whether `word` (lower case) is a real word, which no typo correction may replace."""
    return word in real_words()
