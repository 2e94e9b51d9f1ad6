"""Prometheus metrics, one registry per app so several apps can live in one process."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)


class Metrics:
    content_type = CONTENT_TYPE_LATEST

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "coe_bot_requests",
            "Slack requests handled, by command (or payload type) and outcome.",
            ["command", "outcome"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "coe_bot_handler_seconds",
            "Time to answer a Slack request, by command (or payload type).",
            ["command"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.slack_errors = Counter(
            "coe_bot_slack_api_errors",
            "Slack Web API calls that failed, by method and error.",
            ["method", "error"],
            registry=self.registry,
        )
        self.policy_lookups = Counter(
            "coe_bot_policy_lookups",
            "Policy lookups by outcome (answered, ambiguous, no_match, overview).",
            ["outcome"],
            registry=self.registry,
        )
        self.policy_feedback = Counter(
            "coe_bot_policy_feedback",
            "Votes on /ai-policy answers: up (right) or down (wrong).",
            ["vote"],
            registry=self.registry,
        )

    def request(self, command: str, outcome: str, seconds: float) -> None:
        self.requests.labels(command=command, outcome=outcome).inc()
        self.latency.labels(command=command).observe(seconds)

    def slack_api_error(self, method: str, error: str) -> None:
        self.slack_errors.labels(method=method[:60], error=error[:60]).inc()

    def render(self) -> bytes:
        return generate_latest(self.registry)
