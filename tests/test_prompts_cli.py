"""`coe-bot prompts import/export` and `coe-bot try "/prompts …"`, run as a person would."""

from __future__ import annotations

import subprocess
from pathlib import Path

import yaml

from tests.helpers import clean_env, coe_bot_command


def run(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = clean_env(DATABASE_URL=f"sqlite+aiosqlite:///{cwd / 'lib.db'}")
    return subprocess.run(
        [*coe_bot_command(), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=60
    )


def test_starter_import_is_idempotent_and_exports_round_trip(tmp_path: Path) -> None:
    first = run(tmp_path, "prompts", "import", "--starter")
    assert first.returncode == 0, first.stderr
    added = first.stdout.count("added: ")
    assert added >= 15
    again = run(tmp_path, "prompts", "import", "--starter")
    assert "0 added" in again.stdout
    assert again.stdout.count("already in the library") == added

    exported = run(tmp_path, "prompts", "export", "--output", str(tmp_path / "out.yaml"))
    assert exported.returncode == 0, exported.stderr
    entries = yaml.safe_load((tmp_path / "out.yaml").read_text())
    assert len(entries) == added
    assert {"title", "body", "tags", "author"} <= set(entries[0])

    found = run(tmp_path, "try", "/prompts unit tests")
    assert found.returncode == 0, found.stderr
    assert "[ Use ]" in found.stdout


def test_import_refuses_secrets_and_reports_file_errors(tmp_path: Path) -> None:
    good = {
        "title": "Write a changelog",
        "body": "Summarise these commits as a changelog.",
        "tags": ["docs"],
    }
    leaky = {
        "title": "Deploy",
        "body": "Use token ghp_1234567890abcdefghijklmnopqrstuvwxyzAB now",
        "tags": ["ops"],
    }
    (tmp_path / "lib.yaml").write_text(yaml.safe_dump([good, leaky]))
    result = run(tmp_path, "prompts", "import", str(tmp_path / "lib.yaml"))
    assert result.returncode == 0, result.stderr
    assert "added: Write a changelog" in result.stdout
    assert "skipped line" in result.stdout
    assert "1 added, 1 skipped" in result.stdout

    (tmp_path / "bad.yaml").write_text("- title: No body\n  tags: [x]\n- title: ok\n  body: b\n")
    broken = run(tmp_path, "prompts", "import", str(tmp_path / "bad.yaml"))
    assert broken.returncode == 1
    assert "bad.yaml:1: [0].body" in broken.stdout


def test_exports_of_lookups_and_the_audit_log_are_audited(tmp_path: Path) -> None:
    assert run(tmp_path, "try", "/ai-policy copilot").returncode == 0
    lookups = run(tmp_path, "export", "lookups", "--since", "2020-01-01")
    assert lookups.returncode == 0, lookups.stderr
    assert lookups.stdout.splitlines()[0].startswith("id,user,query,outcome")
    assert ",copilot,answered," in lookups.stdout
    trail = run(tmp_path, "export", "audit", "--format", "ndjson")
    actions = [line for line in trail.stdout.splitlines() if '"export.lookups"' in line]
    assert len(actions) == 1
    assert run(tmp_path, "export", "lookups", "--since", "yesterday").returncode == 2
