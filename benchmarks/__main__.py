"""Run every benchmark and print the figures as JSON (`make bench`)."""

from __future__ import annotations

import asyncio
import json
import platform
import sys

from benchmarks import (
    champions,
    digests,
    export,
    http,
    load,
    lookup,
    policy_eval,
    prompt_search,
    pulls,
    report,
    surveys,
    usage,
)


def main() -> None:
    only = set(sys.argv[1:])
    results: dict[str, object] = {"python": platform.python_version(), "cpus": _cpus()}
    if not only or "lookup" in only:
        results["policy_lookup_1000_rules"] = lookup.run()
        print(json.dumps(results["policy_lookup_1000_rules"]), flush=True)
    if not only or "policy-eval" in only:
        results["policy_eval"] = policy_eval.run()
        print(json.dumps(results["policy_eval"]), flush=True)
    if not only or "prompts" in only:
        results["prompt_search_50000_prompts"] = prompt_search.run()
        print(json.dumps(results["prompt_search_50000_prompts"]), flush=True)
    if not only or "champions" in only:
        results["champions_1000_champions_10000_questions"] = champions.run()
        print(json.dumps(results["champions_1000_champions_10000_questions"]), flush=True)
    if not only or "digests" in only:
        results["digest_and_app_home_one_year"] = digests.run()
        print(json.dumps(results["digest_and_app_home_one_year"]), flush=True)
    if not only or "export" in only:
        results["csv_export_1000000_answers"] = export.run()
        print(json.dumps(results["csv_export_1000000_answers"]), flush=True)
    if not only or "surveys" in only:
        results["survey_fan_out_20000"] = asyncio.run(surveys.run())
        print(json.dumps(results["survey_fan_out_20000"]), flush=True)
    if not only or "usage" in only:
        results["copilot_usage_one_year"] = usage.run()
        print(json.dumps(results["copilot_usage_one_year"]), flush=True)
    if not only or "pulls" in only:
        results["pull_requests_one_year"] = pulls.run()
        print(json.dumps(results["pull_requests_one_year"]), flush=True)
    if not only or "report" in only:
        results["monthly_report_demo"] = report.run()
        print(json.dumps(results["monthly_report_demo"]), flush=True)
    if not only or "load" in only:
        results["sustained_mixed_load"] = load.run()
        print(json.dumps(results["sustained_mixed_load"]), flush=True)
    if not only or "http" in only:
        results["ai_policy_http"] = asyncio.run(http.run())
    print(json.dumps(results, indent=2))


def _cpus() -> int:
    import os

    return os.cpu_count() or 0


if __name__ == "__main__":
    main()
