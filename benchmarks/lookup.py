"""Policy lookup latency on a 1,000-rule pack (in process, no I/O)."""

from __future__ import annotations

import random
import statistics
import time
from typing import Any

from benchmarks.queries import QUERIES
from bot.services.policy_pack import PolicyPack, load_pack
from bot.services.policy_search import PolicyIndex

FILLER = (
    "pipeline deployment kubernetes frontend mobile analytics warehouse migration refactor "
    "logging monitoring incident backlog sprint roadmap latency cache queue billing invoice "
    "report dashboard onboarding accessibility localisation search recommendation fraud"
).split()


def big_pack(rules: int = 1000, seed: int = 7) -> PolicyPack:
    """The shipped pack with its rules, and variations of them up to `rules` entries."""
    base = load_pack().pack
    rng = random.Random(seed)
    generated: list[dict[str, Any]] = [r.model_dump(mode="json") for r in base.rules]
    for i in range(rules - len(base.rules)):
        rule = base.rules[i % len(base.rules)]
        extra = rng.sample(FILLER, 3)
        generated.append(
            {
                "id": f"{rule.id}-{i}",
                "question": f"{rule.question} ({' '.join(extra)})",
                "answer": rule.answer,
                "keywords": [*rule.keywords, *extra],
            }
        )
    data = base.model_dump(mode="json")
    data["rules"] = generated
    return PolicyPack.model_validate(data)


def run(iterations: int = 20_000) -> dict[str, float]:
    pack = big_pack()
    started = time.perf_counter()
    index = PolicyIndex(pack)
    build_ms = (time.perf_counter() - started) * 1000
    timings: list[int] = []
    for i in range(iterations):
        query = QUERIES[i % len(QUERIES)]
        t0 = time.perf_counter_ns()
        index.answer(query)
        timings.append(time.perf_counter_ns() - t0)
    timings.sort()
    return {
        "rules": len(pack.rules),
        "index_build_ms": round(build_ms, 1),
        "median_us": round(statistics.median(timings) / 1000, 1),
        "p99_us": round(timings[int(len(timings) * 0.99)] / 1000, 1),
        "iterations": iterations,
    }
