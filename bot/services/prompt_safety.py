"""Scan a prompt for secrets and personal data before it goes into the shared library.

A prompt in `/prompts` is read by the whole organisation, so a key or a colleague's phone
number pasted with it leaks to everyone. `scan` reports each such thing as a `Finding`
with the line it is on, so the author can fix the text rather than guess.

Secrets are found by detect-secrets (the maintained detector, with its default filters
except the two that hide real keys in a prompt, see `_DISABLED_FILTERS`); only Anthropic
keys, which it has no plugin for, use a pattern of ours. detect-secrets
does not look for personal data, so e-mail addresses and phone numbers are found by the
small patterns below, which leave documentation placeholders alone.

detect-secrets keeps its settings in process-wide state; `scan` holds a lock while it uses
them, so it is safe to call from several threads (`asyncio.to_thread`).
"""

from __future__ import annotations

import locale
import re
import tempfile
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from detect_secrets.core.potential_secret import PotentialSecret
from detect_secrets.core.secrets_collection import SecretsCollection
from detect_secrets.filters.heuristic import is_indirect_reference
from detect_secrets.settings import default_settings

Kind = Literal["secret", "personal_data"]

# detect-secrets plugin `secret_type` -> words for the author. A type missing here (a new
# plugin in a later release) is shown as detect-secrets names it.
_LABELS: dict[str, str] = {
    "AWS Access Key": "AWS access key",
    "Artifactory Credentials": "Artifactory credential",
    "Azure Storage Account access key": "Azure storage account key",
    "Basic Auth Credentials": "password in a connection string",
    "Cloudant Credentials": "Cloudant credential",
    "Discord Bot Token": "Discord bot token",
    "GitHub Token": "GitHub token",
    "GitLab Token": "GitLab token",
    "IBM Cloud IAM Key": "IBM Cloud IAM key",
    "IBM COS HMAC Credentials": "IBM Cloud Object Storage HMAC key",
    "JSON Web Token": "JSON Web Token",
    "Secret Keyword": "hard-coded password or secret",
    "Mailchimp Access Key": "Mailchimp API key",
    "NPM tokens": "npm token",
    "OpenAI Token": "OpenAI API key",
    "Private Key": "private key",
    "PyPI Token": "PyPI token",
    "SendGrid API Key": "SendGrid API key",
    "Slack Token": "Slack token",
    "SoftLayer Credentials": "SoftLayer credential",
    "Square OAuth Secret": "Square OAuth secret",
    "Stripe Access Key": "Stripe secret key",
    "Telegram Bot Token": "Telegram bot token",
    "Twilio API Key": "Twilio API key",
}

_DISABLED_PLUGINS = (
    # Entropy alone cannot tell a key from the hashes, checksums, digests and base64
    # fixtures that prompts about code are full of (`assert sha256(b"") == "e3b0..."`), and
    # a library has no audit step to mark them as false. Keys with a known shape are
    # caught by their own plugins; quoted values given to a secret-sounding name by
    # KeywordDetector.
    "Base64HighEntropyString",
    "HexHighEntropyString",
    # An address, not a credential: prompts about networking and logs are full of them.
    "IPPublicDetector",
)
_DISABLED_FILTERS = (
    # `# pragma: allowlist secret` records that someone audited a line of a repository.
    # Nobody has audited a pasted prompt, so the comment must not hide what is on it.
    "detect_secrets.filters.allowlist.is_line_allowlisted",
    # Meant to quiet KeywordDetector on `secret = get_secret()`, but it drops the whole line
    # for every plugin, so `client = WebClient(token="xoxb-...")` or
    # `create_engine("postgresql://app:pw@db/app")` would pass. It is applied to keyword
    # hits only, in `_is_reportable`.
    "detect_secrets.filters.heuristic.is_indirect_reference",
)

# detect-secrets picks its rules by file extension. For an unknown one it reads a clean
# file a second time as an INI file, which turns prose ("Password: ask in #help") and
# code (`secret = get_secret("db")`) into findings. A source extension keeps the same
# keyword rules (quoted values only) without that second pass.
_SCAN_FILE_NAME = "prompt.py"
_DETECTOR_LOCK = threading.Lock()
# No detect-secrets 1.5 rule matches a shorter line: the shortest hit is a keyword with a
# two-character quoted value, `pwd="a1"` (one character is filtered as a sequence).
_SHORTEST_SECRET = 8

_ANTHROPIC_KEY = re.compile(r"(?<![\w-])sk-ant-[a-z]+\d{2}-[A-Za-z0-9_-]{32,}")

# Values that stand for a secret instead of being one, or are plainly wrong on purpose in
# test data: `password = "changeme"`, `api_key = "sk-..."`, `password="wrong-password"`.
_PLACEHOLDER_VALUE = re.compile(
    r"^(?:(.)\1*|test|secret|password|pass|token|none|null)$"
    r"|\.\.\.|…|x{4}|\*{3}|your|example|placeholder|change[-_]?me|redacted|dummy|fake"
    r"|sample|replace|todo|wrong|invalid|incorrect",
    re.IGNORECASE,
)

_EMAIL = re.compile(
    r"(?:(?<=mailto:)|(?<![\w.%+/:-]))"  # not part of a word, a URL's user:pass@ or a path
    r"(?P<local>[A-Za-z0-9][A-Za-z0-9._%+-]*)@(?P<domain>(?:[A-Za-z0-9-]+\.)+[A-Za-z]{2,})"
    r"(?![\w-]|:[^\s])"  # `git@github.com:org/repo` is an SSH login, not an address
)
# RFC 2606 / RFC 6761 names reserved for documentation and tests.
_EXAMPLE_DOMAIN = re.compile(
    r"(?:^|\.)(?:example\.(?:com|net|org)|example|test|invalid|localhost)$", re.IGNORECASE
)
_EXAMPLE_LOCAL_PARTS = frozenset(
    {"user", "username", "name", "someone", "first.last", "firstname.lastname", "noreply"}
)

# Phone numbers: international (+ and a country code), North American with
# separators, and national numbers with a trunk 0 and separators. A bare run of digits
# without a + is an ID, a timestamp or a count, never a phone number here.
_PHONE = re.compile(
    r"(?<![\w.+/-])(?:"
    r"\+[1-9]\d{0,2}(?:[ .-]?\(?\d{1,5}\)?){1,6}"
    r"|(?:\(\d{3}\) ?|\d{3}[ .-])\d{3}[ .-]\d{4}"
    r"|\(?0\d{1,4}\)?(?:[ .-]\d{2,8}){1,4}"
    r")(?![\w+]|[./:-]\d)"
)
_DATE = re.compile(r"\d{4}[-./]\d{1,2}[-./]\d{1,2}|\d{1,2}[-./]\d{1,2}[-./]\d{4}")
_MIN_PHONE_DIGITS, _MAX_PHONE_DIGITS = 9, 15


@dataclass(frozen=True, slots=True)
class Finding:
    """One thing in a prompt that must not be shared, and the line it is on (from 1)."""

    kind: Kind
    line: int
    label: str

    def describe(self) -> str:
        """Say it the way a reviewer would: "an AWS access key on line 3"."""
        return f"{_with_article(self.label)} on line {self.line}"


def scan(text: str) -> list[Finding]:
    """Every secret and piece of personal data in `text`, by line; empty when it is clean.

    Lines are counted as Slack and editors do: "\\n", "\\r\\n" and "\\r" end a line.
    """
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    found = {*_detect_secrets(lines), *_extra_secrets(lines), *_personal_data(lines)}
    return sorted(found, key=lambda f: (f.line, f.kind != "secret", f.label))


def secrets(findings: Iterable[Finding]) -> list[Finding]:
    return [f for f in findings if f.kind == "secret"]


def personal_data(findings: Iterable[Finding]) -> list[Finding]:
    return [f for f in findings if f.kind == "personal_data"]


def _detect_secrets(lines: list[str]) -> Iterator[Finding]:
    """Run detect-secrets' file scan, with its default filters, on a private temp file.

    It costs about 50 µs a line whatever the line holds, so lines too short to hold a
    secret are left out of the file (8,000 newlines would take half a second) and the
    line numbers are mapped back.
    """
    kept = [n for n, line in enumerate(lines, start=1) if len(line.strip()) >= _SHORTEST_SECRET]
    if not kept:
        return
    collection = SecretsCollection()
    with tempfile.TemporaryDirectory(prefix="coe-prompt-scan-") as folder:
        path = Path(folder) / _SCAN_FILE_NAME
        # detect-secrets opens the file with the locale's encoding; write it in that one,
        # or a single "—" in a Latin-1 locale would make it skip the file as binary.
        encoding = locale.getpreferredencoding(do_setlocale=False)
        body = "".join(f"{lines[n - 1]}\n" for n in kept)
        path.write_text(body, encoding=encoding, errors="replace")
        with _DETECTOR_LOCK, default_settings() as settings:
            settings.disable_plugins(*_DISABLED_PLUGINS)
            settings.disable_filters(*_DISABLED_FILTERS)
            collection.scan_file(str(path))
    for _, secret in collection:
        line = kept[secret.line_number - 1]
        if _is_reportable(secret, lines[line - 1]):
            yield Finding(kind="secret", line=line, label=_LABELS.get(secret.type, secret.type))


def _is_reportable(secret: PotentialSecret, line: str) -> bool:
    """Keyword hits need a literal value; every other plugin matched a key's own shape."""
    if secret.type != "Secret Keyword":
        return True
    return not (_is_placeholder(secret.secret_value or "") or is_indirect_reference(line))


def _extra_secrets(lines: list[str]) -> Iterator[Finding]:
    """Keys detect-secrets 1.5 has no plugin for."""
    for number, line in enumerate(lines, start=1):
        if _ANTHROPIC_KEY.search(line):
            yield Finding(kind="secret", line=number, label="Anthropic API key")


def _personal_data(lines: list[str]) -> Iterator[Finding]:
    for number, line in enumerate(lines, start=1):
        if any(_is_real_email(m) for m in _EMAIL.finditer(line)):
            yield Finding(kind="personal_data", line=number, label="e-mail address")
        if any(_is_phone_number(m.group()) for m in _PHONE.finditer(line)):
            yield Finding(kind="personal_data", line=number, label="phone number")


def _is_placeholder(value: str) -> bool:
    return bool(_PLACEHOLDER_VALUE.search(value.strip("'\" ")))


def _is_real_email(match: re.Match[str]) -> bool:
    local, domain = match.group("local").lower(), match.group("domain")
    return not _EXAMPLE_DOMAIN.search(domain) and local not in _EXAMPLE_LOCAL_PARTS


def _is_phone_number(candidate: str) -> bool:
    digits = sum(c.isdigit() for c in candidate)
    if not _MIN_PHONE_DIGITS <= digits <= _MAX_PHONE_DIGITS or _DATE.search(candidate):
        return False
    groups = re.split(r"[ .()-]+", candidate.strip("+()"))
    # Four dotted groups of up to four digits (010.120.130.140, +1.24.3.1017) are an
    # address or a version, not a number to dial.
    return not (candidate.count(".") == 3 and all(len(g) <= 4 for g in groups))


def _with_article(label: str) -> str:
    """'an' before a vowel sound: "an AWS access key", "an npm token", "a Slack token"."""
    first = label.split(" ", 1)[0]
    spelled_out = first.isupper() or not any(c in "aeiou" for c in first.lower())
    vowel_sound = first[0].upper() in "AEFHILMNORSX" if spelled_out else first[0] in "aeiouAEIOU"
    return f"{'an' if vowel_sound else 'a'} {label}"
