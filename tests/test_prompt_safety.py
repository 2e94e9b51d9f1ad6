"""What the prompt scanner reports, and what it must leave alone.

Secret-shaped test values are assembled from pieces so that this file does not itself trip
secret scanners (push protection, pre-commit hooks); none of them is a live credential.
"""

from __future__ import annotations

import asyncio
import re
import tempfile
from concurrent.futures import ThreadPoolExecutor
from importlib import resources
from pathlib import Path

import pytest
import yaml

from bot.services.prompt_safety import Finding, personal_data, scan, secrets

AWS_KEY = "AKIA" + "IOSFODNN7EXAMPLE"
GITHUB_TOKEN = "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"
SLACK_TOKEN = "xoxb-" + "123456789012-1234567890123-" + "AbCdEfGhIjKlMnOpQrStUvWx"
SLACK_WEBHOOK = "https://hooks.slack.com/services/" + "T0123ABCD/B0123ABCD/" + "a" * 24
STRIPE_KEY = "sk_" + "live_" + "4eC39HqLyjWDarjtT1zdp7dc"
OPENAI_KEY = "sk-proj-" + "abcDEF123ghiJKL456mn" + "T3Blbk" + "FJ" + "ZyXwVuTsRqPoNmLkJiHg"
ANTHROPIC_KEY = "sk-ant-" + "api03-" + "Qx7" * 30 + "AA"
GITLAB_TOKEN = "glpat-" + "x1Y2z3W4v5U6t7S8r9Q0"
JWT = ".".join(
    (
        "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9",
        "eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ",
        "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c",
    )
)
PRIVATE_KEY = "\n".join(
    (
        "-----BEGIN RSA PRIVATE " + "KEY-----",
        "MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun",
        "-----END RSA PRIVATE " + "KEY-----",
    )
)


def _at_line(line: int, content: str) -> str:
    """`content` as line `line` of a prompt, after some ordinary text."""
    before = [
        "Review the deployment script below and point out anything fragile.",
        "",
        "Keep the answer short.",
        "```bash",
        "set -euo pipefail",
        "```",
    ]
    return "\n".join([*before[: line - 1], content, "Thanks!"])


# -- secrets ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "label"),
    [
        (f"export AWS_ACCESS_KEY_ID={AWS_KEY}", "AWS access key"),
        (f's3 = boto3.client("s3", aws_access_key_id="{AWS_KEY}")', "AWS access key"),
        (f"git clone https://{GITHUB_TOKEN}@github.com/acme/api.git", "GitHub token"),
        (f"GITHUB_TOKEN={GITHUB_TOKEN}", "GitHub token"),
        (f'client = WebClient(token="{SLACK_TOKEN}")', "Slack token"),
        (f"curl -X POST {SLACK_WEBHOOK} -d @payload.json", "Slack token"),
        (f"stripe.api_key = {STRIPE_KEY}", "Stripe secret key"),
        (f"OPENAI_API_KEY={OPENAI_KEY}", "OpenAI API key"),
        (f"export ANTHROPIC_API_KEY={ANTHROPIC_KEY}", "Anthropic API key"),
        (f"git remote set-url origin https://oauth2:{GITLAB_TOKEN}@gitlab.com/a/b", "GitLab token"),
        (f"Authorization: Bearer {JWT}", "JSON Web Token"),
        ("DATABASE_URL=postgres://app:" + "Sup3r-s3cret@db.internal:5432/app", None),
        ("engine = create_engine('postgresql://user:" + "password@localhost/shop')", None),
        ("curl https://deploy:" + "hunter2@ci.acme.io/api/v1/jobs", None),
        ('DB_PASSWORD = "' + 'Xk3!mP9qLz7"', "hard-coded password or secret"),
    ],
)
@pytest.mark.parametrize("line", [1, 4])
def test_each_kind_of_secret_is_found_on_its_line(
    content: str, label: str | None, line: int
) -> None:
    expected = label or "password in a connection string"

    found = scan(_at_line(line, content))

    assert Finding("secret", line, expected) in found
    assert all(f.line == line for f in found)


def test_a_private_key_block_is_reported_where_it_begins() -> None:
    prompt = f"Why does paramiko reject this key?\n\n{PRIVATE_KEY}\n"

    assert scan(prompt) == [Finding("secret", 3, "private key")]


def test_line_numbers_count_windows_and_old_mac_line_endings() -> None:
    prompt = f"first\r\nsecond\rthird\r\nkey {AWS_KEY}\n"

    assert scan(prompt) == [Finding("secret", 4, "AWS access key")]


def test_blank_and_short_lines_do_not_shift_line_numbers() -> None:
    filler = "\n".join(["", "}", "  )", "", "end", "x = 1", ""] * 150)
    prompt = f"{filler}\naws_key = {AWS_KEY}"

    assert scan(prompt) == [Finding("secret", filler.count("\n") + 2, "AWS access key")]


def test_a_secret_at_the_end_of_a_full_length_prompt_is_found() -> None:
    prose = "Refactor the handler to use the repository pattern and keep the tests green.\n"
    prompt = prose * (7900 // len(prose)) + f"token = {GITHUB_TOKEN}"
    assert len(prompt) <= 8000

    assert scan(prompt) == [Finding("secret", prompt.count("\n") + 1, "GitHub token")]


def test_an_allowlist_pragma_does_not_hide_a_key() -> None:
    prompt = f"aws_key = '{AWS_KEY}'  # pragma: allowlist secret"

    assert scan(prompt) == [Finding("secret", 1, "AWS access key")]


def test_non_ascii_text_does_not_stop_the_scan() -> None:
    prompt = f"Résumé — naïve café ✓ 日本語 🚀\nkey: {AWS_KEY}"

    assert scan(prompt) == [Finding("secret", 2, "AWS access key")]


def test_a_literal_password_in_test_data_is_reported() -> None:
    # The detector cannot tell test data from a pasted credential; the author replaces it
    # with a placeholder such as <password>.
    prompt = "client.post('/login', json={'username': 'alice', 'password': 'hunter2'})"

    assert scan(prompt) == [Finding("secret", 1, "hard-coded password or secret")]


# -- personal data ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "content",
    [
        "Ask jane.doe@acme-corp.com if the test data is still valid.",
        "Send the report to ops-team+alerts@acme.io.",
        "Contact: <mailto:r.patel@globex.co.uk>",
        "NOTIFY_EMAIL=maria.garcia@initech.de",
        "Owner (Bob.Smith@Contoso.com) approved it",
    ],
)
def test_an_email_address_is_personal_data(content: str) -> None:
    assert scan(_at_line(3, content)) == [Finding("personal_data", 3, "e-mail address")]


@pytest.mark.parametrize(
    "content",
    [
        "Call me on +44 20 7946 0958 if it breaks.",
        "Phone: +44 (0)20 7946 0958",
        "+1 (415) 555-0132 is the on-call line",
        "on-call: (415) 555-0132",
        "Escalate to 415-555-0132",
        "Fax 415.555.0132",
        "Hotline 020 7946 0958",
        "Portable : 06 12 34 56 78",
        "Mobil 0151 12345678",
        "whatsapp +4915112345678",
        "Call 0044 20 7946 0958 from abroad",
    ],
)
def test_a_phone_number_is_personal_data(content: str) -> None:
    assert scan(_at_line(2, content)) == [Finding("personal_data", 2, "phone number")]


@pytest.mark.parametrize(
    "content",
    [
        "Create a user with email user@example.com and log in.",
        "assert send_invite('alice@example.org') is True",
        "Fixtures: bob@sub.example.net, carol@example, dave@service.test, eve@mail.invalid",
        "git clone git@github.com:acme/payments.git",
        "ssh deploy@localhost",
        "@pytest.fixture",
        "npm install @types/node@20.11.5 react@18.2.0",
        "result = weights@inputs.T",
        "emails look like firstname.lastname@acme.com",
        "f'{user.first}.{user.last}@{domain}'",
        "Use <name>@<your-company>.com as the sender.",
    ],
)
def test_placeholder_and_non_address_at_signs_are_not_email(content: str) -> None:
    assert personal_data(scan(content)) == []


@pytest.mark.parametrize(
    "content",
    [
        "Upgrade from 1.24.3 to 1.26.0 (build 1.24.3.1017).",
        "Deployed on 2024-01-15 12:30:45 UTC; 2024-01-15 12 tests failed.",
        "Released 15.01.2024 1030 and 01/02/2024.",
        "Servers 10.0.3.17, 192.168.100.200 and 203.0.113.10:8443",
        "Zero-padded address 010.120.130.140 in the legacy config",
        "user_id = 12345678901234",
        "Slack ts 1712345678.123456, epoch 1700000000",
        "Sizes: 1024 2048 4096 8192 16384",
        "Stripe test card 4242 4242 4242 4242",
        "BETWEEN 20240101 AND 20241231",
        "offset = -1234567890",
        "trace id 0af7651916cd43dd8448eb211c80319c",
        "ports 8080:8080 and 9090:9090",
    ],
)
def test_numbers_that_are_not_phone_numbers(content: str) -> None:
    assert scan(content) == []


def test_several_addresses_on_one_line_are_one_finding() -> None:
    prompt = "cc anna@acme.io, ben@acme.io and carl@acme.io\nnothing here"

    assert scan(prompt) == [Finding("personal_data", 1, "e-mail address")]


# -- placeholders and prose ---------------------------------------------------------------


@pytest.mark.parametrize(
    "content",
    [
        "export API_KEY=<your-key>",
        "export OPENAI_API_KEY=sk-...",
        'api_key = "<YOUR_API_KEY>"',
        'api_key = "sk-..."',
        'token = "xxxxxxxxxxxxxxxxxxxx"',
        'password = "changeme"',
        'password = "********"',
        'secret: "{{ .Values.secret }}"',
        "api_key: ${{ secrets.DEPLOY_KEY }}",
        'token = os.environ["GITHUB_TOKEN"]',
        "secret = get_secret('db')",
        "client_secret = settings.CLIENT_SECRET",
        "DATABASE_URL=postgresql://<user>:<password>@<host>:5432/<db>",
        "DATABASE_URL=postgres://${DB_USER}:${DB_PASSWORD}@db:5432/app",
        'url = f"postgres://{user}:{password}@{host}/{db}"',
        "assert login(password='wrong-password') is False",
        "Password: use the one from the team vault, never paste it here.",
        "The secret must be rotated every 90 days; passwords need 12 characters.",
        'assert hashlib.sha256(b"").hexdigest() == '
        '"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"',
        'assert base64.b64encode(data) == "U29tZSBsb25nIGJhc2U2NCBlbmNvZGVkIGV4YW1wbGUgdGV4dA=="',
        'request_id = "3f2b9c1e-8d4a-4f6b-9c2e-1a7d5e8f0b3c"',
        "Fixed in commit 9fceb02d0ae598e95dc970b74767f19372d61af8.",
        "DNS is 8.8.8.8; the load balancer is 34.117.59.81.",
        "STRIPE_KEY=sk_test_<your-test-key>",
    ],
)
def test_placeholders_references_and_hashes_are_not_reported(content: str) -> None:
    assert scan(content) == []


CLEAN_PROMPTS = [
    # Unit tests with fixtures, UUIDs and example addresses.
    """Write pytest tests for `apply_discount(order, code)` below.

```python
def apply_discount(order: Order, code: str) -> Decimal:
    if order.id == UUID("6f1c2d3e-4b5a-4c7d-8e9f-0a1b2c3d4e5f"):
        raise FrozenOrder(order.id)
    promo = PROMOS.get(code.upper())
    if promo is None or promo.expires_at < now():
        return order.total
    return (order.total * (100 - promo.percent) / 100).quantize(Decimal("0.01"))
```

Cover: unknown code, expired code, 100% discount, rounding of 0.005, lowercase codes.
Use a fixture that builds an Order for customer user@example.com with two lines.
Freeze time with `freezegun` rather than patching `now()`.""",
    # Refactoring a TypeScript service.
    """Refactor this TypeScript service for readability without changing behaviour.

<paste the UserService class here>

Constraints:
- keep the public method signatures;
- replace the nested `if` chains in `updateProfile` with early returns;
- the API key is read with `const apiKey = process.env.API_KEY ?? "";` keep it that way;
- do not touch `hashPassword(password: string): Promise<string>`.
Show a diff, then list anything that looked like a bug.""",
    # Code review of a Go handler.
    """Review this Go HTTP handler for security and performance problems.

```go
func (h *Handler) GetInvoice(w http.ResponseWriter, r *http.Request) {
    id := chi.URLParam(r, "id")
    row := h.db.QueryRowContext(r.Context(),
        "SELECT id, amount_cents, customer_id FROM invoices WHERE id = $1", id)
    var inv Invoice
    if err := row.Scan(&inv.ID, &inv.AmountCents, &inv.CustomerID); err != nil {
        http.Error(w, err.Error(), 500)
        return
    }
    json.NewEncoder(w).Encode(inv)
}
```

Focus on authorisation (can any user read any invoice?), error leakage, and timeouts.""",
    # Docs / README.
    """Draft the "Configuration" section of our README for the billing worker.

Settings come from environment variables:
- BILLING_DB_URL, e.g. postgresql://billing@localhost:5432/billing (no password locally; peer auth)
- STRIPE_API_KEY, use your own test key from the dashboard, never a live one
- RETRY_LIMIT (default 5) and RETRY_BACKOFF_SECONDS (default 2.5)

Write a table with name, default, description, and a short example `.env` using placeholders
like STRIPE_API_KEY=<your-test-key>. Mention that secrets come from Vault in production.""",
    # SQL review.
    """Review this PostgreSQL query; it takes 4 s on a table of 38 million rows.

SELECT o.id, o.created_at, c.email
FROM orders o
JOIN customers c ON c.id = o.customer_id
WHERE date(o.created_at) = '2024-03-01'
  AND o.status NOT IN (SELECT status FROM ignored_statuses)
ORDER BY o.created_at DESC
LIMIT 50;

Indexes: orders(customer_id), orders(created_at), customers(pkey).
Explain why date(created_at) prevents index use, what NOT IN does with NULLs,
and propose a rewrite.""",
    # Zero-downtime migration with Alembic.
    """Write an Alembic migration that renames users.fullname to users.display_name
with zero downtime.

Current revision: "3f1c2b9a7d4e"; down_revision: "9b8a7c6d5e4f".

```python
def upgrade() -> None:
    op.add_column("users", sa.Column("display_name", sa.String(200), nullable=True))
```

Plan the expand/backfill/contract steps across three releases, batch the backfill in
chunks of 10,000 rows, and set lock_timeout = '2s' before each DDL statement.""",
    # Debugging from a stack trace with log lines and IPs.
    """This integration test fails in CI only. Find the cause.

2024-05-02T09:14:31.207Z ERROR [req 7c9e6679-7425-40de-944b-e07fc1f90ae7]
  upstream 10.0.3.17:8443 timed out
Traceback (most recent call last):
  File "/app/payments/client.py", line 88, in charge
    resp = await self._session.post(url, json=payload, timeout=self._timeout)
  File "/usr/local/lib/python3.12/site-packages/aiohttp/client.py", line 703, in _request
    raise ServerTimeoutError(f"Timeout on reading data from socket")
aiohttp.client_exceptions.ServerTimeoutError: Timeout on reading data from socket

The test uses `aioresponses` locally but a real stub server (port 8443) in CI.
Commit a41f9e2 changed the timeout to 0.5 s.""",
    # Java: JUnit migration.
    """Convert this JUnit 4 test to JUnit 5.

@RunWith(MockitoJUnitRunner.class)
public class PasswordPolicyTest {
    @Mock private Clock clock;
    @Rule public ExpectedException thrown = ExpectedException.none();

    @Test
    public void rejectsShortPasswords() {
        thrown.expect(WeakPasswordException.class);
        new PasswordPolicy(clock).check(candidate(7));
    }
}

candidate(n) builds a random string of n characters; keep that helper as is.""",
    # Observability.
    """Add structured logging and Prometheus metrics to this Celery task.

```python
@app.task(bind=True, max_retries=5)
def sync_customer(self, customer_id: int) -> None:
    customer = crm.fetch(customer_id)
    db.upsert(customer)
```

Log customer_id but never the customer's name, email or phone. Count outcomes with a
counter `crm_sync_total{outcome="ok|retry|failed"}` and time it with a histogram.""",
    # Threat model.
    """Threat model this change: we are adding a webhook endpoint POST /hooks/github that triggers
deployments. GitHub signs requests with HMAC-SHA256 in the X-Hub-Signature-256 header using
the webhook secret stored in AWS Secrets Manager under the name prod/deploy/github-webhook.
The endpoint runs behind the ALB, and the deploy runner has IAM permissions to update ECS services.
Use STRIDE, list the trust boundaries, and say what we must log for an audit trail.""",
    # Regex explanation.
    r"""Explain this Python regex and give test cases:

^(?P<user>[a-z0-9._%+-]+)@(?P<domain>[a-z0-9.-]+\.[a-z]{2,})$

It is used to validate sign-up forms. Is it safe against catastrophic backtracking?
Does it accept "a..b@example.com" or uppercase letters? Suggest a version with re.VERBOSE.""",
    # Performance plan.
    """Our /search endpoint p95 went from 180 ms to 1.3 s after upgrading Django 4.2 to 5.0.
Plan a profiling session: py-spy record -o profile.svg --pid <pid>, django-silk for SQL,
and a Locust run of 200 users for 5 minutes against staging (https://staging.example.com).
List hypotheses (N+1 queries, cache misses, changed default of CONN_MAX_AGE)
and the check for each.""",
    # Commit message.
    """Write a commit message for this diff:

diff --git a/app/auth/tokens.py b/app/auth/tokens.py
@@ -12,7 +12,9 @@ def issue_token(user: User) -> str:
-    expires = datetime.utcnow() + timedelta(hours=24)
+    expires = datetime.now(UTC) + timedelta(hours=settings.TOKEN_TTL_HOURS)
+    if user.is_service_account:
+        expires = datetime.now(UTC) + timedelta(minutes=15)
     return jwt.encode({"sub": str(user.id), "exp": expires}, settings.SIGNING_KEY, "HS256")

Use Conventional Commits and explain why service accounts get shorter tokens.""",
    # Kubernetes / infra with secret references.
    """Review this Kubernetes deployment snippet for security issues:

env:
  - name: DATABASE_PASSWORD
    valueFrom:
      secretKeyRef:
        name: orders-db
        key: password
  - name: LOG_LEVEL
    value: "info"
image: ghcr.io/acme/orders@sha256:4f53cda18c2baa0c0354bb5f9a3ecbe5ed12ab4d8e11ba873c2f11161202b945
securityContext:
  runAsNonRoot: true

Should we use readOnlyRootFilesystem, and how do we rotate the orders-db secret
without a restart?""",
    # GitHub Actions workflow.
    """Speed up this GitHub Actions workflow; it takes 14 minutes.

jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-node@v4
        with:
          node-version: 20
      - run: npm ci
      - run: npm test -- --runInBand
        env:
          NPM_TOKEN: ${{ secrets.NPM_TOKEN }}
          API_BASE_URL: https://api.example.com

Suggest caching, sharding the Jest run across 4 runners, and skipping jobs on docs-only changes.""",
    # Explaining unfamiliar code with hex ids and versions.
    """Explain what this Rust function does and whether it can panic:

fn parse_header(buf: &[u8]) -> Result<Header, ParseError> {
    let magic = u32::from_be_bytes(buf[0..4].try_into()?);
    if magic != 0xCAFEBABE { return Err(ParseError::BadMagic(magic)); }
    let version = u16::from_be_bytes([buf[4], buf[5]]);
    Ok(Header { magic, version, flags: buf[6] })
}

We call it on files produced by version 2.14.1 of the exporter; input length is not checked.""",
]


@pytest.mark.parametrize("prompt", CLEAN_PROMPTS, ids=lambda p: p.split("\n", 1)[0][:40])
def test_real_prompts_have_no_findings(prompt: str) -> None:
    assert scan(prompt) == []


# -- the result type ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("finding", "words"),
    [
        (Finding("secret", 3, "AWS access key"), "an AWS access key on line 3"),
        (Finding("secret", 1, "Slack token"), "a Slack token on line 1"),
        (Finding("secret", 7, "private key"), "a private key on line 7"),
        (Finding("secret", 2, "npm token"), "an npm token on line 2"),
        (Finding("secret", 2, "OpenAI API key"), "an OpenAI API key on line 2"),
        (Finding("secret", 5, "JSON Web Token"), "a JSON Web Token on line 5"),
        (Finding("personal_data", 4, "e-mail address"), "an e-mail address on line 4"),
        (Finding("personal_data", 9, "phone number"), "a phone number on line 9"),
    ],
)
def test_describe_reads_naturally(finding: Finding, words: str) -> None:
    assert finding.describe() == words


def test_findings_are_sorted_by_line_and_split_by_kind() -> None:
    prompt = "\n".join(
        [
            "Ping anna@acme.io when done.",
            f"aws = {AWS_KEY}",
            "text",
            f"call +44 20 7946 0958, token {SLACK_TOKEN}",
        ]
    )

    found = scan(prompt)

    assert found == [
        Finding("personal_data", 1, "e-mail address"),
        Finding("secret", 2, "AWS access key"),
        Finding("secret", 4, "Slack token"),
        Finding("personal_data", 4, "phone number"),
    ]
    assert secrets(found) == [found[1], found[2]]
    assert personal_data(found) == [found[0], found[3]]


# -- how it runs --------------------------------------------------------------------------


def test_the_scan_leaves_no_files_behind(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))

    scan(f"key {AWS_KEY}")
    scan(CLEAN_PROMPTS[0])

    assert list(tmp_path.iterdir()) == []


def test_concurrent_scans_from_threads_give_the_same_answers() -> None:
    texts = [f"line\nkey {AWS_KEY}", CLEAN_PROMPTS[2], "mail anna@acme.io", f"t={SLACK_TOKEN}"]
    expected = [scan(t) for t in texts]

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(scan, texts * 25))

    assert results == expected * 25


async def test_scan_runs_in_asyncio_worker_threads() -> None:
    texts = [f"key {AWS_KEY}", CLEAN_PROMPTS[1]] * 10

    results = await asyncio.gather(*(asyncio.to_thread(scan, t) for t in texts))

    assert results == [[Finding("secret", 1, "AWS access key")], []] * 10


# -- the starter library ------------------------------------------------------------------

STARTER = Path(str(resources.files("bot") / "prompts" / "starter.yaml"))
TAG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


def _starter() -> list[dict[str, object]]:
    entries = yaml.safe_load(STARTER.read_text(encoding="utf-8"))
    assert isinstance(entries, list)
    return entries


def test_the_starter_library_is_well_formed() -> None:
    entries = _starter()

    assert len(entries) >= 18
    titles = [e["title"] for e in entries]
    assert len(set(titles)) == len(titles)
    for entry in entries:
        assert set(entry) == {"title", "body", "tags", "stack", "use_case", "tool"}, entry
        title, body, tags = entry["title"], entry["body"], entry["tags"]
        assert isinstance(title, str)
        assert 0 < len(title) <= 150
        assert isinstance(body, str)
        assert 0 < len(body) <= 8000
        assert body.count("\n") >= 5, title
        assert isinstance(tags, list)
        assert tags
        assert all(isinstance(t, str) and TAG.match(t) for t in tags), title
        assert isinstance(entry["stack"], str)
        assert isinstance(entry["use_case"], str)
        assert isinstance(entry["tool"], str)


def test_the_starter_library_covers_the_common_tasks() -> None:
    tags = {t for e in _starter() for t in e["tags"]}  # type: ignore[attr-defined]

    assert {
        "testing",
        "refactoring",
        "code-review",
        "docs",
        "migration",
        "sql",
        "security",
        "debugging",
        "performance",
    } <= tags


@pytest.mark.parametrize("entry", _starter(), ids=lambda e: str(e["title"])[:40])
def test_every_starter_prompt_passes_the_scanner(entry: dict[str, object]) -> None:
    assert scan(str(entry["body"])) == []
