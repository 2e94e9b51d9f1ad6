"""Prompt search over a 50,000-prompt library, on SQLite and on PostgreSQL.

Issue target: p50 under 20 ms and p99 under 100 ms on both back ends.

Per back end: a fresh, migrated database (a SQLite file in a temp dir; the PostgreSQL
database `bench_prompts`, dropped and recreated), seeded with the same generated library
(task templates x stacks x domains x filler sentences, 2-5 tags each, Zipf-like extra tags,
popularity counts scored with `wilson_lower_bound`) through the real schema: executemany in
batches into `prompt`, `prompt_tag` and `search_term`, while the FTS5 triggers (SQLite) or
the generated tsvector column and its GIN index (PostgreSQL) index the text. PostgreSQL then
gets the `VACUUM ANALYZE` that autovacuum would soon run after a bulk load.

Then `bot.services.prompt_search.search` runs one search at a time, each in its own session
from `make_sessions(create_engine(url))`, timed from opening the session to closing it
(`perf_counter_ns`): one search that loads the vocabulary, 100 warm-up searches, then 2,000
measured ones. The query mix (`KINDS`): plain 1-4 word queries, `tag:` filters (a quarter
of them tags only), typos, off-topic queries that match nothing, and very common words or
natural-language phrases ("code", "how do i write tests").

Run: `.venv/bin/python -m benchmarks prompts` (PostgreSQL server: `BENCH_POSTGRES_URL`,
default postgresql+asyncpg://postgres@127.0.0.1:5432). Other load on the machine shows up
in the tail latencies: `loadavg` is reported before and after.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import math
import os
import random
import shutil
import statistics
import tempfile
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import event, insert, text
from sqlalchemy.ext.asyncio import AsyncEngine

from benchmarks import recreate_postgres_database
from bot.db import create_engine, make_sessions, migrate
from bot.models import Prompt, PromptTag, SearchTerm
from bot.services.prompt_search import Vocabulary, parse_query, search
from bot.services.prompts import _WORD as TERM  # the vocabulary's own definition of a word
from bot.services.prompts import Status, normalised_hash, wilson_lower_bound

PROMPTS = 50_000
SEARCHES = 2_000
WARMUP = 100
BATCH = 1_000
SEED = 50_000
POSTGRES_SERVER = os.environ.get(
    "BENCH_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432"
)
POSTGRES_DATABASE = "bench_prompts"
TARGET_P50_MS = 20.0
TARGET_P99_MS = 100.0

# ---------------------------------------------------------------------------------------------
# The library's building blocks
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Language:
    tag: str
    name: str
    test_frameworks: tuple[str, ...]
    frameworks: tuple[str, ...]
    weight: int


LANGUAGES = (
    Language("python", "Python", ("pytest", "unittest", "hypothesis"),
             ("Django", "FastAPI", "Flask", "pandas", "SQLAlchemy", "Celery"), 25),
    Language("typescript", "TypeScript", ("Jest", "Vitest", "Playwright"),
             ("React", "Next.js", "NestJS", "Express", "Node.js", "Angular"), 20),
    Language("java", "Java", ("JUnit 5", "Mockito", "AssertJ"),
             ("Spring Boot", "Hibernate", "Kafka Streams", "Quarkus"), 14),
    Language("go", "Go", ("the testing package", "testify", "gomock"),
             ("gin", "gRPC", "sqlc", "cobra"), 10),
    Language("sql", "SQL", ("pgTAP", "dbt tests"),
             ("PostgreSQL", "MySQL", "Snowflake", "BigQuery", "dbt"), 10),
    Language("javascript", "JavaScript", ("Jest", "Mocha", "Cypress"),
             ("React", "Vue", "Express", "Node.js"), 6),
    Language("csharp", "C#", ("xUnit", "NUnit", "Moq"),
             ("ASP.NET Core", "Entity Framework", ".NET 8"), 5),
    Language("kotlin", "Kotlin", ("JUnit 5", "Kotest", "MockK"),
             ("Ktor", "Spring Boot", "Jetpack Compose", "coroutines"), 4),
    Language("rust", "Rust", ("cargo test", "proptest", "insta"),
             ("tokio", "axum", "serde", "sqlx"), 3),
    Language("ruby", "Ruby", ("RSpec", "Minitest"), ("Rails", "Sidekiq", "ActiveRecord"), 3),
    Language("terraform", "Terraform", ("terratest", "tflint"),
             ("AWS", "GCP", "Azure", "Kubernetes"), 3),
    Language("bash", "Bash", ("bats", "shellcheck"), ("GitHub Actions", "Docker", "make"), 2),
    Language("php", "PHP", ("PHPUnit", "Pest"), ("Laravel", "Symfony"), 2),
    Language("swift", "Swift", ("XCTest",), ("SwiftUI", "Combine", "Core Data"), 2),
    Language("scala", "Scala", ("ScalaTest", "munit"), ("Spark", "Akka", "cats-effect"), 1),
)  # fmt: skip

DOMAINS = {
    "payments": ("refund", "chargeback", "settlement", "payout", "card", "transaction"),
    "auth": ("token", "session", "password", "permission", "role", "login"),
    "search": ("query", "index", "ranking", "synonym", "facet", "autocomplete"),
    "billing": ("invoice", "subscription", "plan", "discount", "tax", "credit"),
    "ingestion": ("event", "batch", "record", "partition", "schema", "checkpoint"),
    "notifications": ("email", "push", "template", "recipient", "digest", "webhook"),
    "reporting": ("report", "dashboard", "metric", "export", "aggregate", "chart"),
    "onboarding": ("signup", "invitation", "profile", "workspace", "checklist", "trial"),
    "inventory": ("stock", "warehouse", "sku", "reservation", "supplier", "shipment"),
    "checkout": ("cart", "basket", "order", "coupon", "address", "quote"),
    "fraud": ("rule", "score", "alert", "device", "velocity", "chargeback"),
    "identity": ("user", "account", "organisation", "member", "group", "directory"),
    "scheduling": ("booking", "slot", "calendar", "reminder", "timezone", "availability"),
    "pricing": ("price", "currency", "rate", "margin", "promotion", "catalogue"),
    "messaging": ("message", "thread", "channel", "attachment", "mention", "reaction"),
    "analytics": ("funnel", "cohort", "segment", "pageview", "attribution", "experiment"),
    "compliance": ("audit", "retention", "consent", "policy", "evidence", "control"),
    "shipping": ("parcel", "carrier", "label", "tracking", "route", "delivery"),
    "ledger": ("entry", "balance", "journal", "account", "reconciliation", "posting"),
    "recommendations": ("item", "embedding", "candidate", "feature", "model", "feedback"),
}
DOMAIN_WEIGHTS = (12, 11, 7, 10, 6, 5, 8, 4, 4, 6, 3, 5, 3, 3, 3, 4, 2, 2, 2, 2)

COMPONENTS = (
    "handler", "service", "repository", "controller", "webhook consumer", "retry queue",
    "serializer", "cron job", "REST endpoint", "GraphQL resolver", "batch importer",
    "rate limiter", "cache layer", "state machine", "validator", "client library",
    "background worker", "CLI tool", "data model", "migration script", "React component",
    "API gateway", "Kafka consumer", "scheduler", "feature flag", "mapper",
)  # fmt: skip
DEPENDENCIES = (
    "the database", "the HTTP client", "the clock", "the message broker", "Redis",
    "the payment gateway", "S3", "the feature flag service", "the email provider",
    "the identity provider", "Elasticsearch", "the queue", "the file system",
)  # fmt: skip
ERRORS = (
    "timeouts", "deadlocks", "null pointer exceptions", "race conditions", "memory leaks",
    "500 errors", "duplicate messages", "connection pool exhaustion", "stale cache reads",
    "off-by-one errors", "encoding errors", "out-of-memory kills", "slow responses",
)  # fmt: skip
UPGRADES = (
    ("Python 2", "Python 3.12"), ("Java 8", "Java 21"), ("AngularJS", "React"),
    ("Express", "NestJS"), ("REST", "gRPC"), ("MySQL", "PostgreSQL"),
    ("Jenkins", "GitHub Actions"), ("Moment.js", "date-fns"), ("callbacks", "async/await"),
    ("Create React App", "Vite"), ("unittest", "pytest"), ("JUnit 4", "JUnit 5"),
    ("Webpack", "Vite"), ("SQLAlchemy 1.4", "SQLAlchemy 2.0"), ("Django 3.2", "Django 5"),
    ("Spring Boot 2", "Spring Boot 3"), ("EC2", "Kubernetes"), ("Redux", "Zustand"),
    ("Travis CI", "GitLab CI"), ("Oracle", "PostgreSQL"), ("Vue 2", "Vue 3"),
)  # fmt: skip
DATABASES = ("PostgreSQL", "MySQL", "Snowflake", "BigQuery", "SQL Server", "SQLite", "Redshift")
VERBS = (
    "calculate", "validate", "fetch", "build", "parse", "sync", "apply", "reconcile", "retry",
    "normalise", "enqueue", "publish", "resolve", "merge", "split", "render", "export",
    "import", "schedule", "cancel", "refresh", "archive", "load", "compute", "format",
)  # fmt: skip
SUFFIXES = (
    "total", "status", "batch", "items", "ids", "config", "event", "result", "summary",
    "window", "limit", "history", "payload", "request", "response", "state", "cursor",
)  # fmt: skip


@dataclass(frozen=True)
class Task:
    tag: str
    titles: tuple[str, ...]
    asks: tuple[str, ...]
    steps: tuple[str, ...]
    weight: int


TASKS = (
    Task(
        "testing",
        (
            "Write unit tests for the {domain} {component} in {lang}",
            "Generate {testfw} tests covering {entity} edge cases",
            "Unit tests for {entity} validation with {testfw}",
            "Table-driven tests for the {domain} {component}",
            "Property-based tests for {entity} parsing in {lang}",
            "Increase test coverage of the {domain} {component}",
        ),
        (
            "Write unit tests for the {component} below, which is part of our {domain} service.",
            "Generate {testfw} tests for this {lang} code, covering the edge cases around "
            "{entity} handling.",
            "Our {domain} {component} has almost no tests. Write a test suite for it.",
        ),
        (
            "Cover the happy path, empty input and at least three edge cases.",
            "Use {testfw} and keep every test independent of the others.",
            "Mock {dependency} but never the code under test.",
            "Name each test after the behaviour it checks, not the method it calls.",
            "Add a parametrised test for boundary values such as zero, negative amounts and "
            "very long {entity} lists.",
            "Point out any behaviour that looks like a bug instead of writing a test that "
            "locks it in.",
            "Use fixtures for the {entity} objects rather than building them in every test.",
            "Check the error messages as well as the exception types.",
        ),
        18,
    ),
    Task(
        "refactoring",
        (
            "Refactor the {domain} {component} for readability",
            "Split the {entity} {component} into smaller functions",
            "Refactor legacy {lang} {domain} code without changing behaviour",
            "Remove duplication in the {entity} {component}",
            "Simplify nested conditionals in {ident}",
        ),
        (
            "Refactor the following {lang} code without changing its behaviour.",
            "This {component} in our {domain} codebase has grown to 600 lines. Help me "
            "refactor it.",
        ),
        (
            "Keep the public API unchanged.",
            "Extract small, well-named functions and explain each extraction.",
            "Remove the duplication between {ident} and {ident2}.",
            "Replace nested conditionals with early returns.",
            "Show the result as a unified diff.",
            "Do not introduce new dependencies.",
            "Keep the existing tests passing; tell me which ones need to change and why.",
            "Prefer plain functions over classes where there is no state.",
        ),
        14,
    ),
    Task(
        "code-review",
        (
            "Review this {lang} pull request for the {domain} team",
            "Code review checklist for {domain} {component} changes",
            "Review my {entity} {component} like a senior engineer",
            "Strict code review of {ident} in {lang}",
        ),
        (
            "Review the following pull request as a strict but kind senior reviewer.",
            "Act as a reviewer on our {domain} team and review this {lang} change.",
        ),
        (
            "Flag correctness problems first, then security, then readability.",
            "Check the error handling around {dependency}.",
            "Comment on naming, tests and logging.",
            "Say which comments are blocking and which are nits.",
            "Suggest concrete code for every change you ask for.",
            "Check that {entity} values are validated at the boundary.",
        ),
        12,
    ),
    Task(
        "documentation",
        (
            "Write docstrings for the {domain} {component} module",
            "Document the {entity} API endpoints for new joiners",
            "Generate a README for the {domain} service",
            "Write an architecture decision record for {domain} {entity} storage",
            "Explain the {entity} lifecycle in the {domain} docs",
        ),
        (
            "Write documentation for the {lang} {component} below.",
            "We need onboarding docs for the {domain} service. Start from this code.",
        ),
        (
            "Write for an engineer who joined the team this week.",
            "Include one runnable example per public function.",
            "Describe every parameter, return value and exception.",
            "Use short sentences and active voice.",
            "Add a section on how {entity} data flows through the {component}.",
            "Keep it in Markdown with headings no deeper than level three.",
        ),
        9,
    ),
    Task(
        "migration",
        (
            "Migrate the {domain} {component} from {old} to {new}",
            "Upgrade the {lang} service from {old} to {new}",
            "Plan a zero-downtime {entity} schema migration in {db}",
            "Move {domain} {entity} data from {old} to {new}",
        ),
        (
            "We are moving the {domain} {component} from {old} to {new}. Plan the migration.",
            "Help me migrate this {lang} code from {old} to {new}.",
        ),
        (
            "List the breaking changes first.",
            "Propose the migration in small, reversible steps.",
            "Keep both versions running behind a feature flag until the cut-over.",
            "Write the database migration so it can run while the service is live.",
            "Say how to backfill existing {entity} rows and how long it will take.",
            "Give a rollback plan for every step.",
        ),
        8,
    ),
    Task(
        "debugging",
        (
            "Debug intermittent {error} in the {domain} {component}",
            "Find the root cause of flaky {entity} tests",
            "Why does {ident} fail under load",
            "Investigate {error} after the {domain} deploy",
        ),
        (
            "Our {domain} {component} shows {error} a few times a day. Help me find out why.",
            "This {lang} test fails about one run in twenty. Help me debug it.",
        ),
        (
            "Ask for the logs and the exact error before guessing.",
            "List the three most likely causes, most likely first.",
            "Suggest one log line or metric that would confirm each cause.",
            "Check for shared state between tests and for reliance on {dependency}.",
            "Tell me how to reproduce it locally.",
        ),
        10,
    ),
    Task(
        "sql",
        (
            "Optimise the slow {entity} query in {db}",
            "Speed up the {domain} report SQL query",
            "Add the right indexes for {entity} lookups in {db}",
            "Rewrite the {domain} {entity} query without correlated subqueries",
        ),
        (
            "This {db} query takes {seconds} seconds on {rows} million rows. Make it faster.",
            "Our {domain} dashboard times out. Here is the SQL behind it.",
        ),
        (
            "Read the EXPLAIN ANALYZE output below before suggesting indexes.",
            "Propose indexes, and say what each one costs on writes.",
            "Rewrite correlated subqueries as joins where it helps.",
            "Avoid SELECT * and return only the columns the report needs.",
            "Check whether the {entity}_id join columns have matching types.",
            "Suggest how to paginate with keyset pagination instead of OFFSET.",
        ),
        8,
    ),
    Task(
        "explain",
        (
            "Explain this {lang} {component} to a new joiner",
            "Explain what the {entity} {component} does line by line",
            "Explain the {domain} {entity} algorithm in plain English",
            "Walk me through {ident} step by step",
        ),
        (
            "Explain the following {lang} code to someone who knows programming but not "
            "{framework}.",
            "I inherited this {domain} {component}. Explain what it does.",
        ),
        (
            "Start with a two-sentence summary.",
            "Then walk through the code block by block.",
            "Call out anything surprising or risky.",
            "Draw the control flow as a numbered list.",
            "Say which parts you are unsure about.",
        ),
        7,
    ),
    Task(
        "security",
        (
            "Security review of the {domain} {component}",
            "Check {entity} handling for injection and data leaks",
            "Threat model for the {domain} {entity} flow",
            "Find secrets and PII in the {lang} {component}",
        ),
        (
            "Do a security review of this {lang} code from our {domain} service.",
            "Threat-model the {entity} flow described below.",
        ),
        (
            "Look for injection, broken access control and secrets in code.",
            "Check that {entity} data is never written to the logs.",
            "Rate each finding as high, medium or low and explain the rating.",
            "Map the findings to the OWASP Top 10.",
            "Suggest a fix for every high finding.",
        ),
        5,
    ),
    Task(
        "api-design",
        (
            "Design a REST API for {domain} {entity} resources",
            "Review the {entity} GraphQL schema design",
            "Design idempotent {entity} endpoints for {domain}",
            "Version the {domain} API without breaking clients",
        ),
        (
            "Design the HTTP API for {entity} management in our {domain} product.",
            "Review this API design for the {domain} team.",
        ),
        (
            "Use cursor pagination for every list endpoint.",
            "Require idempotency keys on every POST that creates {entity} records.",
            "Use one error format with a machine-readable code.",
            "Write the OpenAPI description for the endpoints.",
            "Say how clients learn about deprecations.",
        ),
        4,
    ),
    Task(
        "git",
        (
            "Write a commit message for this {domain} change",
            "Summarise this diff as a pull request description",
            "Write release notes for the {domain} {component}",
        ),
        (
            "Write a commit message for the diff below.",
            "Turn this diff into a pull request description for the {domain} team.",
        ),
        (
            "Keep the subject line under 50 characters, in the imperative.",
            "Explain why the change is needed, not only what it does.",
            "Mention the ticket number at the end.",
            "List any follow-up work as bullet points.",
        ),
        3,
    ),
    Task(
        "incident",
        (
            "Draft a blameless postmortem for the {domain} outage",
            "Write the incident timeline for {entity} {error}",
            "Runbook for {domain} {component} {error}",
        ),
        (
            "Draft a blameless postmortem from the incident notes below.",
            "Write a runbook for on-call engineers for when the {domain} {component} shows "
            "{error}.",
        ),
        (
            "Include a timeline, the customer impact, the root cause and follow-up actions.",
            "Keep blame out of it: describe systems, not people.",
            "Give every follow-up action an owner and a due date placeholder.",
            "Link each step in the runbook to the dashboard that shows it.",
        ),
        3,
    ),
    Task(
        "regex",
        (
            "Write a regex that validates {entity} identifiers",
            "Explain and fix this {lang} regular expression",
            "Regex to extract {entity} ids from {domain} logs",
        ),
        (
            "Write a regular expression for the {entity} format described below.",
            "This regex in our {domain} code is slow and wrong. Fix it.",
        ),
        (
            "Explain the regex piece by piece.",
            "Give five strings that should match and five that should not.",
            "Avoid catastrophic backtracking.",
        ),
        2,
    ),
    Task(
        "data",
        (
            "Write a {lang} ingestion job for {domain} events",
            "Clean and deduplicate {entity} records with pandas",
            "Design a {domain} data pipeline with {framework}",
            "Backfill {entity} aggregates for the {domain} warehouse",
        ),
        (
            "Write a batch job that loads {domain} {entity} events into {db}.",
            "Help me clean this {entity} dataset before it goes into the warehouse.",
        ),
        (
            "Make the job idempotent so it can be rerun after a failure.",
            "Validate the schema of every record and send bad records to a dead-letter table.",
            "Process the data in chunks of 10,000 rows.",
            "Log counts of records read, written and rejected.",
        ),
        4,
    ),
    Task(
        "ci",
        (
            "Set up a CI pipeline for the {domain} service",
            "Speed up the GitHub Actions build for {lang}",
            "Cache dependencies in the {lang} CI workflow",
            "Dockerfile for the {domain} {component}",
        ),
        (
            "Write a CI workflow for this {lang} repository.",
            "Our {domain} build takes 25 minutes. Help me make it faster.",
        ),
        (
            "Run lint, type checks and tests in parallel jobs.",
            "Cache dependencies between runs.",
            "Fail fast on the first broken job.",
            "Build the container image once and reuse it in every later step.",
        ),
        3,
    ),
)

ROLES = (
    "You are a senior {lang} engineer on the {domain} team.",
    "Act as an experienced {lang} developer who cares about maintainability.",
    "You are a pragmatic staff engineer reviewing work from the {domain} squad.",
    "You are an expert in {framework} and {lang}.",
    "You are helping a team that builds the {domain} platform.",
    "Pretend you are pairing with me on the {domain} codebase.",
)
CONTEXT = (
    "The code runs in a {domain} service that handles about {rps} requests per second.",
    "We use {framework} and {db}.",
    "The {component} was written four years ago and has few tests.",
    "Our team follows trunk-based development and deploys several times a day.",
    "{entity} records can arrive out of order and more than once.",
    "The service talks to {dependency} and to two internal APIs.",
    "Performance matters: the {component} sits on the checkout path.",
    "We must keep support for the {old} clients until the end of the quarter.",
    "Most of the team is new to {lang}.",
)
FILLER = (
    "Explain your reasoning before you show code.",
    "Answer in British English.",
    "Keep the answer under 400 words unless code needs more room.",
    "Ask me clarifying questions if anything is ambiguous.",
    "Do not invent APIs that are not in the code below.",
    "Point out anything that looks like a security problem.",
    "Prefer the standard library over new dependencies.",
    "List your assumptions at the end.",
    "Use the naming conventions already in the code.",
    "If you are not sure, say so instead of guessing.",
    "Format code blocks with the language name for syntax highlighting.",
    "Do not include customer data or secrets in examples.",
    "Think about concurrency: several workers may run this at once.",
    "Mention the time and space complexity where it matters.",
    "Suggest follow-up work separately from the main answer.",
    "Assume the reader is busy: put the most important point first.",
    "Use {testfw} conventions for anything test related.",
    "The code must keep working with {dependency} unavailable for a few seconds.",
    "Respect the existing {framework} patterns in the project.",
    "Keep {entity} identifiers opaque strings; never parse them.",
    "Check the {ident} path carefully; it has caused incidents before.",
    "Timestamps are UTC everywhere in the {domain} service.",
    "Money amounts are integers in minor units, never floats.",
    "Logging must go through the structured logger, with no string formatting.",
    "Return errors as values where the language makes that idiomatic.",
    "Make the smallest change that solves the problem.",
    "Write the answer so it can be pasted into a pull request.",
    "Highlight any change that needs a database migration.",
    "Call out code that will be hard to test.",
    "Show the before and after for every change.",
)
EXTRA_TAGS = (
    "beginner", "legacy", "architecture", "observability", "kubernetes", "docker", "aws",
    "gcp", "azure", "react", "django", "spring", "fastapi", "copilot", "claude", "chatgpt",
    "cursor", "gemini", "accessibility", "frontend", "backend", "mobile", "llm", "agents",
    "best-practices", "onboarding", "tdd", "ddd", "microservices", "graphql", "grpc", "kafka",
    "redis", "postgres", "unit-tests", "e2e", "performance", "clean-code", "typing",
    "async", "error-handling", "logging", "pandas", "dbt", "terraform", "ci-cd",
)  # fmt: skip
TOOLS = ("Copilot", "Claude Code", "ChatGPT", "Cursor", "Gemini", "Amazon Q", None, None)

# ---------------------------------------------------------------------------------------------
# Generating the library
# ---------------------------------------------------------------------------------------------


@dataclass
class Library:
    prompts: list[dict[str, Any]]
    tags: list[dict[str, Any]]
    terms: list[str]
    seconds: float


def _pascal(*words: str) -> str:
    return "".join(w[:1].upper() + w[1:] for w in words)


def _code(rng: random.Random, lang: Language, domain: str, entity: str) -> tuple[str, str]:
    """A short snippet and the identifier it defines (which widens the vocabulary)."""
    verb, suffix = rng.choice(VERBS), rng.choice(SUFFIXES)
    snake, camel = f"{verb}_{entity}_{suffix}", verb + _pascal(entity, suffix)
    kind = _pascal(entity)
    if lang.tag == "python":
        body = f"def {snake}({entity}, *, {domain}_client=None):\n    ...\n"
        return body, snake
    if lang.tag in ("typescript", "javascript"):
        typed = f"{entity}: {kind}" if lang.tag == "typescript" else entity
        return f"export async function {camel}({typed}) {{\n  // ...\n}}\n", camel
    if lang.tag in ("java", "csharp", "kotlin", "scala", "swift"):
        return f"public {kind}{_pascal(suffix)} {camel}({kind} {entity}) {{ ... }}\n", camel
    if lang.tag == "go":
        name = _pascal(verb, entity, suffix)
        return f"func {name}(ctx context.Context, {entity} *{kind}) error {{ ... }}\n", name
    if lang.tag == "rust":
        return f"pub fn {snake}({entity}: &{kind}) -> Result<{kind}, Error> {{ ... }}\n", snake
    if lang.tag == "sql":
        sql = (
            f"SELECT {entity}_id, sum(amount) AS {suffix}\nFROM {domain}_{entity}s\n"
            f"WHERE status = 'open' AND created_at > now() - interval '30 days'\n"
            f"GROUP BY {entity}_id ORDER BY {suffix} DESC;\n"
        )
        return sql, f"{domain}_{entity}s"
    if lang.tag == "terraform":
        return f'resource "aws_sqs_queue" "{snake}" {{\n  name = "{domain}-{entity}"\n}}\n', snake
    return f"{snake}() {{\n  # ...\n}}\n", snake


_EXTRA_WEIGHTS = [1 / (rank + 1) ** 0.8 for rank in range(len(EXTRA_TAGS))]  # Zipf-like


def _prompt(rng: random.Random) -> tuple[str, str, list[str], str, str]:
    lang: Language = rng.choices(LANGUAGES, weights=[x.weight for x in LANGUAGES])[0]
    task: Task = rng.choices(TASKS, weights=[x.weight for x in TASKS])[0]
    domain = rng.choices(list(DOMAINS), weights=DOMAIN_WEIGHTS)[0]
    entity = rng.choice(DOMAINS[domain])
    old, new = rng.choice(UPGRADES)
    snippet, ident = _code(rng, lang, domain, entity)
    _, ident2 = _code(rng, lang, domain, rng.choice(DOMAINS[domain]))
    values = {
        "lang": lang.name,
        "domain": domain,
        "entity": entity,
        "component": rng.choice(COMPONENTS),
        "testfw": rng.choice(lang.test_frameworks),
        "framework": rng.choice(lang.frameworks),
        "dependency": rng.choice(DEPENDENCIES),
        "error": rng.choice(ERRORS),
        "old": old,
        "new": new,
        "db": rng.choice(DATABASES),
        "ident": ident,
        "ident2": ident2,
        "seconds": rng.randint(3, 90),
        "rows": rng.randint(2, 400),
        "rps": rng.choice((40, 150, 300, 1200, 5000)),
    }
    title = rng.choice(task.titles).format(**values)
    title = title[:1].upper() + title[1:]
    target = min(2000, max(300, int(rng.lognormvariate(math.log(850), 0.45))))
    chunks = [
        rng.choice(ROLES).format(**values),
        rng.choice(task.asks).format(**values),
        *(s.format(**values) for s in rng.sample(CONTEXT, rng.randint(1, 3))),
        "\n"
        + "\n".join(
            f"- {s.format(**values)}"
            for s in rng.sample(task.steps, rng.randint(2, min(5, len(task.steps))))
        )
        + "\n",
    ]
    fillers = [s.format(**values) for s in rng.sample(FILLER, len(FILLER))]
    ending = (
        f"\nHere is the code:\n\n```{lang.tag}\n{snippet}```"
        if rng.random() < 0.6
        else "\n<paste the code here>"
    )
    length = sum(len(c) + 1 for c in chunks) + len(ending)
    while length < target and fillers:
        chunk = fillers.pop()
        if length + len(chunk) + 1 > 2000:
            break
        chunks.append(chunk)
        length += len(chunk) + 1
    body = (" ".join(chunks) + ending)[:2000]
    tags = [
        tag for tag, p in ((lang.tag, 0.85), (task.tag, 0.95), (domain, 0.6)) if rng.random() < p
    ]
    tags = list(dict.fromkeys(tags))  # "sql" is a language and a task
    wanted = rng.randint(2, 5)
    while len(tags) < wanted:
        extra = rng.choices(EXTRA_TAGS, weights=_EXTRA_WEIGHTS)[0]
        if extra not in tags:
            tags.append(extra)
    return title[:150], body, tags[:5], lang.name, task.tag


def build_library(count: int = PROMPTS, seed: int = SEED) -> Library:
    started = time.perf_counter()
    rng = random.Random(seed)
    authors = [f"U0{rng.randrange(16**8):08X}" for _ in range(2_000)]
    teams = [f"team-{d}" for d in DOMAINS] + ["platform", "mobile", "data", "sre", "web"]
    start = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    prompts: list[dict[str, Any]] = []
    tags: list[dict[str, Any]] = []
    terms: set[str] = set()
    hashes: set[str] = set()
    while len(prompts) < count:
        title, body, prompt_tags, stack, use_case = _prompt(rng)
        body_hash = normalised_hash(body)
        if body_hash in hashes:
            continue
        hashes.add(body_hash)
        users = min(int(rng.paretovariate(1.3)) - 1, 2_000)  # most prompts few users, a few many
        helpful = sum(rng.random() < 0.35 for _ in range(min(users, 50)))
        helpful = helpful if users <= 50 else int(users * rng.uniform(0.1, 0.6))
        created = start + dt.timedelta(seconds=rng.randrange(60 * 60 * 24 * 700))
        tags_text = " ".join(prompt_tags)
        prompt_id = len(prompts) + 1
        prompts.append(
            {
                "id": prompt_id,
                "title": title,
                "body": body,
                "tags_text": tags_text,
                "stack": stack,
                "use_case": use_case,
                "tool": rng.choice(TOOLS),
                "author_id": rng.choice(authors),
                "team": rng.choice(teams),
                "status": Status.published,
                "body_hash": body_hash,
                "version": 1,
                "helpful_count": helpful,
                "user_count": users,
                "use_count": users + int(users * rng.uniform(0, 3)),
                "score": wilson_lower_bound(helpful, users),
                "created_at": created,
                "updated_at": created,
            }
        )
        tags.extend({"prompt_id": prompt_id, "tag": tag} for tag in prompt_tags)
        terms.update(TERM.findall(f"{title} {tags_text} {body}".lower()))
    return Library(prompts, tags, sorted(terms), time.perf_counter() - started)


# ---------------------------------------------------------------------------------------------
# The query mix
# ---------------------------------------------------------------------------------------------

TASK_WORDS = (
    "unit tests", "tests", "refactor", "code review", "review", "docstrings", "readme",
    "documentation", "migrate", "migration", "debug", "flaky tests", "optimise query",
    "slow query", "index", "explain", "security review", "threat model", "api design",
    "pagination", "commit message", "postmortem", "runbook", "regex", "ingestion job",
    "pipeline", "github actions", "dockerfile", "idempotent", "edge cases", "backfill",
)  # fmt: skip
STACK_WORDS = (
    "python", "typescript", "java", "golang", "rust", "sql", "kotlin", "react", "django",
    "spring boot", "pandas", "terraform", "postgresql", "jest", "pytest", "fastapi", "rails",
    "junit", "graphql", "kafka", "redis", "snowflake", "bigquery", "laravel", "swiftui",
)  # fmt: skip
POPULAR_TAGS = (
    "python", "typescript", "java", "go", "sql", "testing", "refactoring", "code-review",
    "documentation", "debugging", "payments", "auth", "billing", "reporting", "security",
    "migration", "react", "beginner", "legacy", "performance", "kafka", "llm",
)  # fmt: skip
NO_MATCH = (
    "weather forecast", "birthday cake recipe", "holiday rota", "football scores",
    "lunch menu friday", "quantum chromodynamics", "xylophone", "sourdough starter",
    "office plants", "wedding photographer", "parking permit", "karaoke night",
    "volcano eruption", "knitting pattern", "crossword clue", "tax return 2019 paperwork",
)  # fmt: skip
COMMON = (
    "code", "test", "write", "function", "data", "error", "service", "the code",
    "how do i write tests", "explain this code", "make it faster", "review my code",
    "write a function", "help with sql", "tests for python", "api", "a prompt for code review",
    "fix the bug", "use", "you are a senior engineer",
)  # fmt: skip
KINDS = {"plain": 40, "tag": 20, "typo": 15, "no_match": 10, "common": 15}


def _plain(rng: random.Random) -> str:
    parts = [rng.choice(TASK_WORDS)]
    if rng.random() < 0.6:
        parts.append(rng.choice(STACK_WORDS))
    if rng.random() < 0.45:
        domain = rng.choice(list(DOMAINS))
        parts.append(rng.choice((domain, rng.choice(DOMAINS[domain]))))
    rng.shuffle(parts)
    return " ".join(" ".join(parts).split()[:4])


def _typo(rng: random.Random, word: str, known: frozenset[str]) -> str | None:
    for _ in range(20):
        i = rng.randrange(1, len(word) - 1)
        edit = rng.randrange(4)
        if edit == 0:
            wrong = word[:i] + word[i + 1 :]  # dropped letter
        elif edit == 1:
            wrong = word[:i] + word[i + 1] + word[i] + word[i + 2 :]  # swapped letters
        elif edit == 2:
            wrong = word[:i] + rng.choice("aeioulnrst") + word[i + 1 :]  # wrong letter
        else:
            wrong = word[:i] + word[i] + word[i:]  # doubled letter
        if wrong != word and wrong not in known:
            return wrong
    return None


def build_queries(count: int, library: Library, seed: int) -> list[tuple[str, str]]:
    """`count` (kind, query) pairs in a realistic mix."""
    rng = random.Random(seed)
    known = frozenset(library.terms)
    queries: list[tuple[str, str]] = []
    while len(queries) < count:
        kind = rng.choices(list(KINDS), weights=list(KINDS.values()))[0]
        if kind == "plain":
            query = _plain(rng)
        elif kind == "tag":
            filters = " ".join(f"tag:{t}" for t in rng.sample(POPULAR_TAGS, rng.randint(1, 2)))
            plain = "" if rng.random() < 0.25 else " ".join(_plain(rng).split()[:2])
            query = f"{plain} {filters}" if rng.random() < 0.5 else f"{filters} {plain}"
        elif kind == "typo":
            words = _plain(rng).split()[: rng.randint(1, 3)]
            candidates = [i for i, w in enumerate(words) if len(w) >= 5]
            if not candidates:
                continue
            i = rng.choice(candidates)
            wrong = _typo(rng, words[i], known)
            if wrong is None:
                continue
            words[i] = wrong
            query = " ".join(words)
        elif kind == "no_match":
            query = rng.choice(NO_MATCH)
        else:
            query = rng.choice(COMMON)
        queries.append((kind, query.strip()))
    return queries


# ---------------------------------------------------------------------------------------------
# Seeding and searching one back end
# ---------------------------------------------------------------------------------------------


def _batches(rows: list[Any], size: int = BATCH) -> Iterator[list[Any]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


async def seed(engine: AsyncEngine, library: Library) -> dict[str, float]:
    started = time.perf_counter()
    prompt, prompt_tag, search_term = (
        Prompt.__table__,  # type: ignore[attr-defined]
        PromptTag.__table__,  # type: ignore[attr-defined]
        SearchTerm.__table__,  # type: ignore[attr-defined]
    )
    for rows in _batches(library.prompts):
        async with engine.begin() as conn:
            await conn.execute(insert(prompt), rows)
    prompt_rows_s = time.perf_counter() - started
    for rows in _batches(library.tags, BATCH * 5):
        async with engine.begin() as conn:
            await conn.execute(insert(prompt_tag), rows)
    for words in _batches(library.terms, BATCH * 5):
        async with engine.begin() as conn:
            await conn.execute(insert(search_term), [{"term": w} for w in words])
    all_rows_s = time.perf_counter() - started
    if engine.dialect.name == "postgresql":
        async with engine.connect() as conn:
            await conn.execute(text("SELECT setval('prompt_id_seq', (SELECT max(id) FROM prompt))"))
            await conn.commit()
            # What autovacuum would do soon after a bulk load: stats, GIN pending list, VM.
            autocommit = await conn.execution_options(isolation_level="AUTOCOMMIT")
            await autocommit.execute(text("VACUUM ANALYZE"))
    return {
        "prompt_rows_s": round(prompt_rows_s, 1),  # 50,000 prompts, indexed as they go in
        "all_rows_s": round(all_rows_s, 1),  # and the tags and the vocabulary
        "total_s": round(time.perf_counter() - started, 1),  # and VACUUM ANALYZE (PostgreSQL)
    }


def _pct(values: list[int], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(q * len(ordered)) - 1)] / 1e6


def _summary(timings: list[int]) -> dict[str, float]:
    return {
        "p50_ms": round(_pct(timings, 0.50), 2),
        "p95_ms": round(_pct(timings, 0.95), 2),
        "p99_ms": round(_pct(timings, 0.99), 2),
        "max_ms": round(max(timings) / 1e6, 2),
    }


@dataclass
class Sample:
    kind: str
    query: str
    ns: int
    results: int
    has_more: bool
    corrected: bool
    statements: int


class Searcher:
    """Searches one at a time, each in its own session, counting the SQL statements."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.sessions = make_sessions(engine)
        self.vocabulary = Vocabulary()
        self.statements = 0
        event.listen(engine.sync_engine, "before_cursor_execute", self._count)

    def _count(self, *_: Any) -> None:
        self.statements += 1

    async def run(self, queries: Iterable[tuple[str, str]]) -> list[Sample]:
        samples: list[Sample] = []
        for kind, raw in queries:
            self.statements = 0
            t0 = time.perf_counter_ns()
            async with self.sessions() as session:
                page = await search(
                    session=session, query=parse_query(raw), vocabulary=self.vocabulary
                )
            elapsed = time.perf_counter_ns() - t0
            samples.append(
                Sample(
                    kind,
                    raw,
                    elapsed,
                    len(page.prompts),
                    page.has_more,
                    bool(page.corrections),
                    self.statements,
                )
            )
        return samples


def _report(samples: list[Sample]) -> dict[str, Any]:
    timings = [s.ns for s in samples]
    return {
        "searches": len(samples),
        **_summary(timings),
        "mean_results": round(statistics.mean(s.results for s in samples), 2),
        "zero_results_pct": round(100 * sum(s.results == 0 for s in samples) / len(samples), 1),
        "has_more_pct": round(100 * sum(s.has_more for s in samples) / len(samples), 1),
        "corrected_pct": round(100 * sum(s.corrected for s in samples) / len(samples), 1),
        "mean_statements": round(statistics.mean(s.statements for s in samples), 2),
    }


async def bench_backend(url: str, library: Library) -> dict[str, Any]:
    engine = create_engine(url)
    try:
        seeding = await seed(engine, library)
    finally:
        await engine.dispose()
    engine = create_engine(url)  # a fresh pool, as a restarted bot would have
    try:
        searcher = Searcher(engine)
        # A misspelt word no prompt contains: the first correction loads the vocabulary.
        [first] = await searcher.run([("typo", "xylophnoe")])
        await searcher.run(build_queries(WARMUP, library, seed=1))
        loadavg_before = os.getloadavg()
        t0 = time.perf_counter()
        samples = await searcher.run(build_queries(SEARCHES, library, seed=2))
        searching_s = time.perf_counter() - t0
        loadavg_after = os.getloadavg()
    finally:
        await engine.dispose()
    overall = _report(samples)
    by_kind = {k: _report([s for s in samples if s.kind == k]) for k in KINDS}
    slowest = sorted(samples, key=lambda s: s.ns, reverse=True)[:8]
    return {
        "seeding": seeding,
        "first_search_with_vocabulary_load_ms": round(first.ns / 1e6, 1),
        "search_seconds": round(searching_s, 1),
        "loadavg_1min_before_after": [round(loadavg_before[0], 2), round(loadavg_after[0], 2)],
        "overall": overall,
        "targets_met": {
            f"p50 < {TARGET_P50_MS:g} ms": overall["p50_ms"] < TARGET_P50_MS,
            f"p99 < {TARGET_P99_MS:g} ms": overall["p99_ms"] < TARGET_P99_MS,
        },
        "by_kind": by_kind,
        "slowest": [f"{s.ns / 1e6:.1f} ms {s.kind}: {s.query!r}" for s in slowest],
        "slowest_queries_ms": _slowest_queries(samples),
    }


def _slowest_queries(samples: list[Sample], top: int = 10) -> dict[str, float]:
    """Median latency per distinct query, slowest first: which query shapes cost most."""
    per_query: dict[str, list[int]] = {}
    for s in samples:
        per_query.setdefault(f"{s.kind}: {s.query}", []).append(s.ns)
    medians = {q: statistics.median(ns) / 1e6 for q, ns in per_query.items()}
    ranked = sorted(medians.items(), key=lambda item: item[1], reverse=True)[:top]
    return {q: round(ms, 1) for q, ms in ranked}


# ---------------------------------------------------------------------------------------------
# Entry point
# ---------------------------------------------------------------------------------------------


def _library_stats(library: Library) -> dict[str, Any]:
    bodies = [len(p["body"]) for p in library.prompts]
    titles = [len(p["title"].split()) for p in library.prompts]
    return {
        "prompts": len(library.prompts),
        "tag_rows": len(library.tags),
        "distinct_tags": len({t["tag"] for t in library.tags}),
        "vocabulary_terms": len(library.terms),
        "body_chars_p50": int(statistics.median(bodies)),
        "body_chars_min_max": [min(bodies), max(bodies)],
        "title_words_mean": round(statistics.mean(titles), 1),
        "generate_s": round(library.seconds, 1),
    }


def run() -> dict[str, Any]:
    library = build_library()
    results: dict[str, Any] = {"library": _library_stats(library)}
    print(f"prompt search: library built ({results['library']})", flush=True)

    work = Path(tempfile.mkdtemp(prefix="coe-bench-prompts-"))
    try:
        url = f"sqlite+aiosqlite:///{work / 'prompts.db'}"
        t0 = time.perf_counter()
        migrate(url)
        migrate_s = time.perf_counter() - t0
        results["sqlite"] = asyncio.run(bench_backend(url, library))
        results["sqlite"]["seeding"]["migrate_s"] = round(migrate_s, 1)
        results["sqlite"]["database_mb"] = round(
            sum(f.stat().st_size for f in work.iterdir()) / 2**20, 1
        )
        print(f"prompt search: sqlite done ({results['sqlite']['overall']})", flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    try:
        url = asyncio.run(recreate_postgres_database(POSTGRES_SERVER, POSTGRES_DATABASE))
    except (OSError, ConnectionError) as exc:
        results["postgresql"] = {"skipped": f"PostgreSQL unreachable at {POSTGRES_SERVER}: {exc}"}
        return results
    t0 = time.perf_counter()
    migrate(url)
    migrate_s = time.perf_counter() - t0
    results["postgresql"] = asyncio.run(bench_backend(url, library))
    results["postgresql"]["seeding"]["migrate_s"] = round(migrate_s, 1)
    print(f"prompt search: postgresql done ({results['postgresql']['overall']})", flush=True)
    return results
