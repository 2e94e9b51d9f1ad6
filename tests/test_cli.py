"""The `coe-bot` command line, run as a real process in an empty directory (no `.env`)."""

from __future__ import annotations

import json
import re
import sqlite3
import subprocess
from pathlib import Path

import pytest

from bot.services.policy_pack import default_pack_path
from tests.helpers import clean_env, coe_bot_command

ISSUE = re.compile(r"^(?P<file>.+?):(?P<line>\d+): (?P<field>[^:]+): (?P<message>.+)$")
REGULATED_QUESTION = "/ai-policy can I use copilot on payment code in a regulated service"


def run(cwd: Path, *args: str, **variables: str) -> subprocess.CompletedProcess[str]:
    env = clean_env(**variables)
    return subprocess.run(
        [*coe_bot_command(), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _sqlite_url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


# -- policy validate ------------------------------------------------------------------


def test_validate_accepts_the_shipped_pack(tmp_path: Path) -> None:
    done = run(tmp_path, "policy", "validate", str(default_pack_path()))
    assert done.returncode == 0, done.stderr
    assert "OK" in done.stdout


def _line_of(text: str, needle: str) -> int:
    """1-based number of the first line of `text` that contains `needle`."""
    return next(n for n, line in enumerate(text.splitlines(), 1) if needle in line)


def _issues(output: str) -> list[dict[str, str]]:
    found = [ISSUE.match(line) for line in output.splitlines()]
    return [m.groupdict() for m in found if m]


def _broken_pack(tmp_path: Path, breakage: str) -> tuple[Path, int]:
    """A copy of the shipped pack with one thing broken, and the line of the broken field."""
    original = default_pack_path().read_text()
    lines = original.splitlines(keepends=True)
    if breakage == "status":
        line = _line_of(original, "status: approved")
        lines[line - 1] = lines[line - 1].replace("status: approved", "status: maybe")
    elif breakage == "review":
        # The first matrix cell loses its `review`: the cell's own line is where it is missing.
        line = _line_of(original, "- category: boilerplate")
        start = next(n for n in range(line, len(lines)) if lines[n].strip() == "review: >-")
        end = start + 1
        while lines[end].startswith(" " * 6):
            end += 1
        del lines[start:end]
    elif breakage == "indentation":
        line = _line_of(original, "status: approved")
        lines[line - 1] = "   " + lines[line - 1].lstrip()  # 3 spaces inside a 4-space mapping
    elif breakage == "unknown-tier":
        line = _line_of(original, "tiers: [internal, customer-facing, regulated]")
        lines[line - 1] = lines[line - 1].replace(
            "[internal, customer-facing, regulated]", "[internal, moon]"
        )
    elif breakage == "unknown-breach-rule":
        line = _line_of(original, "breach_rule: policy-breach-happened")
        lines[line - 1] = "breach_rule: no-such-rule\n"
    else:
        raise AssertionError(breakage)
    path = tmp_path / f"broken-{breakage}.yaml"
    path.write_text("".join(lines))
    return path, line


@pytest.mark.parametrize(
    ("breakage", "field", "message"),
    [
        ("status", "tools[0].status", "approved"),
        ("review", "matrix[0].review", "required"),
        ("indentation", "yaml", ""),
        ("unknown-tier", "tiers", "moon"),
        ("unknown-breach-rule", "breach_rule", "no-such-rule"),
    ],
)
def test_validate_reports_file_line_field_and_message(
    tmp_path: Path, breakage: str, field: str, message: str
) -> None:
    path, line = _broken_pack(tmp_path, breakage)

    done = run(tmp_path, "policy", "validate", str(path))

    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    issues = _issues(done.stdout)
    assert issues, done.stdout
    assert all(issue["file"] == str(path) for issue in issues), issues
    at_line = [i for i in issues if i["line"] == str(line)]
    assert at_line, f"expected an issue at line {line}: {issues}"
    assert any(field in i["field"] and message in i["message"] for i in at_line), at_line


# -- configuration errors -------------------------------------------------------------


def _assert_one_line_config_error(done: subprocess.CompletedProcess[str], variable: str) -> None:
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert lines, "nothing on stderr"
    assert variable in lines[-1]
    assert len(lines) == 1, done.stderr


def test_malformed_admin_list_is_one_line_naming_coe_admins(tmp_path: Path) -> None:
    done = run(tmp_path, "serve", COE_ADMINS="bob")
    _assert_one_line_config_error(done, "COE_ADMINS")


def test_unsupported_database_url_is_one_line_naming_database_url(tmp_path: Path) -> None:
    done = run(tmp_path, "migrate", DATABASE_URL="mysql://x")
    _assert_one_line_config_error(done, "DATABASE_URL")


def test_socket_mode_without_app_token_is_one_line_naming_slack_app_token(
    tmp_path: Path,
) -> None:
    done = run(tmp_path, "serve", "--socket-mode", SLACK_BOT_TOKEN="xoxb-configured")
    _assert_one_line_config_error(done, "SLACK_APP_TOKEN")


# -- migrate --------------------------------------------------------------------------


def test_migrate_creates_the_tables_in_a_fresh_sqlite_file(tmp_path: Path) -> None:
    database = tmp_path / "x.db"

    done = run(tmp_path, "migrate", DATABASE_URL=_sqlite_url(database))

    assert done.returncode == 0, done.stderr
    with sqlite3.connect(database) as conn:
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
    assert {
        "alembic_version",
        "audit_event",
        "job_run",
        "outbox_message",
        "policy_lookup",
        "processed_request",
    } <= tables


# -- try ------------------------------------------------------------------------------


def test_try_answers_a_policy_question(tmp_path: Path) -> None:
    done = run(tmp_path, "try", REGULATED_QUESTION, DATABASE_URL=_sqlite_url(tmp_path / "t.db"))

    assert done.returncode == 0, done.stderr
    reply = done.stdout.split("── reply, visible to only you ──", 1)[1].strip()
    assert reply.startswith(":large_orange_diamond: *Allowed with review* — *Security-critical*")
    for shown in ("Regulated", "• Review:", "[ Details ]", "[ Share in channel ]"):
        assert shown in reply


def test_try_writes_a_block_kit_preview(tmp_path: Path) -> None:
    preview = tmp_path / "reply.html"
    done = run(
        tmp_path,
        "try",
        "--html",
        str(preview),
        "/ai-policy I pasted an AWS key into copilot chat <@U0BOB>, what now?",
        DATABASE_URL=_sqlite_url(tmp_path / "t.db"),
    )

    assert done.returncode == 0, done.stderr
    assert f"(preview written to {preview})" in done.stdout
    page = preview.read_text(encoding="utf-8")
    assert "🚨 <b>Incident: act now</b>" in page  # emoji and bold rendered
    assert "<button>Details</button>" in page
    assert "&lt;@U0BOB&gt;" in page  # the asker's text stays text
    assert "<@U0BOB>" not in page


def test_try_without_a_question_shows_the_overview(tmp_path: Path) -> None:
    done = run(tmp_path, "try", "/ai-policy", DATABASE_URL=_sqlite_url(tmp_path / "t.db"))

    assert done.returncode == 0, done.stderr
    for name in ("Boilerplate", "Business logic", "Security-critical", "Data handling", "Tools"):
        assert name.lower() in done.stdout.lower()


def test_try_an_unknown_command_says_so(tmp_path: Path) -> None:
    done = run(tmp_path, "try", "/nonsense", DATABASE_URL=_sqlite_url(tmp_path / "t.db"))

    assert done.returncode == 2
    assert "not a coe-bot command" in done.stderr
    assert "/ai-policy" in done.stderr


def test_try_an_admin_command_as_a_non_admin_is_refused(tmp_path: Path) -> None:
    done = run(
        tmp_path,
        "try",
        "/ai-coe policy reload",
        "--user",
        "U0BOB",
        DATABASE_URL=_sqlite_url(tmp_path / "t.db"),
    )

    assert done.returncode == 0, done.stderr
    assert "CoE admins only" in done.stdout
    assert "Nothing was changed" in done.stdout


def test_teams_import_creates_and_updates_without_duplicates(tmp_path: Path) -> None:
    csv_file = tmp_path / "teams.csv"
    csv_file.write_text(
        "user_id,team,is_champion,topics\n"
        "U0BOB,payments,true,python;testing\n"
        "U0ALICE,payments,false,\n"
        "U0DAVE,search,yes,python\n"
    )
    env = {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'teams.db'}"}
    first = run(tmp_path, "teams", "import", str(csv_file), **env)
    assert first.returncode == 0, first.stderr
    assert "3 people mapped to teams, 2 champions" in first.stdout
    csv_file.write_text(
        "user_id,team,is_champion,topics\n"
        "U0BOB,search,false,\n"
        "U0ALICE,payments,false,\n"
        "U0DAVE,search,true,python;go\n"
        "bob,search,maybe,\n"
    )
    second = run(tmp_path, "teams", "import", str(csv_file), **env)
    assert second.returncode == 1
    assert "line 5" in second.stdout
    assert "3 people mapped to teams, 1 champion," in second.stdout
    listed = run(
        tmp_path, "try", "/ai-coe champions list", "--user", "U0ADMIN", COE_ADMINS="U0ADMIN", **env
    )
    assert "<@U0DAVE>" not in listed.stdout  # mentions are shown by name by try
    assert "@dave · search · python, go" in listed.stdout
    assert "@bob" not in listed.stdout


def test_a_roster_that_is_not_utf8_is_refused_in_one_line(tmp_path: Path) -> None:
    """An Excel CSV saved as Latin-1: one friendly line, nothing imported, no traceback."""
    csv_file = tmp_path / "latin1.csv"
    csv_file.write_bytes(b"user_id,team,is_champion,topics\nU07LAT00001,m\xfcller,true,caf\xe9\n")
    env = {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'teams.db'}"}
    done = run(tmp_path, "teams", "import", str(csv_file), **env)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines() == [
        f"coe-bot: {csv_file} is not UTF-8 text (byte 46): save it as CSV UTF-8 and import"
        " again; nothing was imported"
    ]
    survey = tmp_path / "survey.yaml"
    survey.write_bytes(b"\xff\xfei\x00d\x00")
    loaded = run(tmp_path, "surveys", "load", str(survey), **env)
    assert loaded.returncode == 1
    assert "Traceback" not in loaded.stderr + loaded.stdout
    assert "not UTF-8 text (byte 1)" in loaded.stdout + loaded.stderr


def test_the_not_yet_known_count_leaves_out_rejected_rows(tmp_path: Path) -> None:
    csv_file = tmp_path / "teams.csv"
    csv_file.write_text(
        "user_id,team,is_champion,topics\nU07ONE0001,payments,true,python\nbob,search,maybe,\n"
    )
    env = {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'teams.db'}"}
    done = run(tmp_path, "teams", "import", str(csv_file), **env)
    assert "1 person mapped to teams" in done.stdout
    assert "; 1 not yet in the people directory" in done.stdout


def test_a_roster_with_bad_rows_says_which_and_imports_only_the_good_ones(
    tmp_path: Path,
) -> None:
    csv_file = tmp_path / "teams.csv"
    long_id = "U" + "A" * 299
    long_team = "t" * 90
    csv_file.write_text(
        "user_id,team,is_champion,topics\n"
        "U0BOB,payments,true,python\n"
        "U0BOB,search,false,\n"
        f"{long_id},payments,true,\n"
        f"U0LONG1,{long_team},false,\n"
        "U0SHORT1,payments\n"
        "U0EXTRA1,payments,true,python,testing\n"
        f"U0TOPIC1,payments,true,{'x' * 50}\n"
    )
    env = {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'teams.db'}"}
    done = run(tmp_path, "teams", "import", str(csv_file), **env)
    assert done.returncode == 1
    said = [line.removeprefix(f"{csv_file}: ") for line in done.stdout.splitlines()]
    assert said[:8] == [
        "line 3: U0BOB is also on line 2; only that line was imported",
        f"line 4: “{long_id[:24]}…” is not a Slack user ID (like U0123ABCD)",
        f"line 5: “{long_team[:40]}…” is not a team name: it is 90 characters long, and a "
        "team name is at most 80.",
        "line 6: 2 values where the header has 4; nothing was imported from it",
        "line 7: 5 values where the header has 4 (quote topics that contain commas); nothing "
        "was imported from it",
        f"line 8: “{'x' * 30}…” is not a topic: topics are at most 40 characters.",
        "6 lines with a problem (above) changed nothing; the other rows were imported:",
        "1 person mapped to teams, 1 champion, 0 teams given a default tier; 1 not yet in the "
        "people directory (the running app checks them with Slack)",
    ]
    listed = run(
        tmp_path, "try", "/ai-coe champions list", "--user", "U0ADMIN", COE_ADMINS="U0ADMIN", **env
    )
    assert "@bob · payments · python" in listed.stdout
    for absent in ("U0LONG1", "U0SHORT1", "U0EXTRA1", "U0TOPIC1", "search"):
        assert absent not in listed.stdout


def test_the_roster_template_imports_as_it_is(tmp_path: Path) -> None:
    env = {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'teams.db'}"}
    template = run(tmp_path, "teams", "template", **env)
    assert template.returncode == 0, template.stderr
    assert template.stdout.splitlines()[0] == "user_id,team,is_champion,topics,tier,owner"
    assert "Copy member ID" in template.stderr  # the explanation stays out of the CSV
    (tmp_path / "teams.csv").write_text(template.stdout)
    done = run(tmp_path, "teams", "import", "teams.csv", **env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "5 people mapped to teams, 3 champions, 2 teams given a default tier" in done.stdout
    listed = run(
        tmp_path, "try", "/ai-coe champions list", "--user", "U0ADMIN", COE_ADMINS="U0ADMIN", **env
    )
    assert "@carol · payments · security, code-review" in listed.stdout


def test_help_names_every_verb_and_shows_defaults(tmp_path: Path) -> None:
    top = run(tmp_path, "--help")
    for verb in ("serve", "migrate", "policy", "prompts", "teams", "surveys", "export", "try"):
        assert f"    {verb} " in top.stdout
    assert "examples:" in top.stdout
    serve = run(tmp_path, "serve", "--help", PORT="")  # no PORT in the environment
    assert "(default: 3000)" in serve.stdout
    assert "--migrate" in serve.stdout
    exported = run(tmp_path, "export", "questions", "--help")
    assert "(default: csv)" in exported.stdout
    assert "(default: None)" not in exported.stdout


def test_try_never_audits_a_policy_load(tmp_path: Path) -> None:
    env = {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'try.db'}"}
    for _ in range(3):
        assert run(tmp_path, "try", "/ai-policy", **env).returncode == 0
    audit = run(tmp_path, "export", "audit", "--format", "json", **env)
    assert audit.returncode == 0, audit.stderr
    assert "policy.load" not in audit.stdout


def test_every_champion_change_from_an_import_is_audited_once(tmp_path: Path) -> None:
    env = {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'teams.db'}"}
    roster = tmp_path / "teams.csv"
    roster.write_text(
        "user_id,team,is_champion,topics\nU0BOB,payments,true,python\nU0CAROL,payments,true,\n"
    )
    assert run(tmp_path, "teams", "import", str(roster), **env).returncode == 0
    assert run(tmp_path, "teams", "import", str(roster), **env).returncode == 0  # no change
    roster.write_text(
        "user_id,team,is_champion,topics\nU0BOB,payments,false,\nU0CAROL,search,true,\n"
    )
    assert run(tmp_path, "teams", "import", str(roster), **env).returncode == 0
    trail = run(tmp_path, "export", "audit", "--format", "json", **env)
    changes = [
        (e["action"], e["subject"], e["details"].get("team"))
        for e in json.loads(trail.stdout)
        if e["action"].startswith("champion.")
    ]
    assert changes == [
        ("champion.add", "U0BOB", "payments"),
        ("champion.add", "U0CAROL", "payments"),
        ("champion.remove", "U0BOB", None),
        ("champion.add", "U0CAROL", "search"),
    ]


def test_import_replace_makes_the_file_the_whole_roster(tmp_path: Path) -> None:
    env = {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'teams.db'}"}
    roster = tmp_path / "teams.csv"
    roster.write_text(
        "user_id,team,is_champion,topics\nU0BOB,payments,true,python\n"
        "U0CAROL,payments,true,\nU0DAVE,search,false,\n"
    )
    assert run(tmp_path, "teams", "import", str(roster), **env).returncode == 0
    smaller = tmp_path / "smaller.csv"
    smaller.write_text("user_id,team,is_champion,topics\nU0BOB,payments,true,python\n")

    broken = tmp_path / "broken.csv"
    broken.write_text(
        "user_id,team,is_champion,topics\nU0BOB,payments,true,python\nnot-an-id,x,1,\n"
    )
    refused = run(tmp_path, "teams", "import", "--replace", str(broken), **env)
    assert refused.returncode == 1
    assert "nothing was imported and nobody was removed" in refused.stderr
    assert "line 3" in refused.stdout

    plain = run(tmp_path, "teams", "import", str(smaller), **env)  # adds and updates only
    assert "taken out" not in plain.stdout

    replaced = run(tmp_path, "teams", "import", "--replace", str(smaller), **env)
    assert replaced.returncode == 0, replaced.stderr
    assert (
        "1 person mapped to teams, 1 champion, 0 teams given a default tier; not in the file:"
        " 2 people taken out of their team, 1 champion retired"
    ) in replaced.stdout
    trail = json.loads(run(tmp_path, "export", "audit", "--format", "json", **env).stdout)
    removed = [e["subject"] for e in trail if e["action"] == "champion.remove"]
    assert removed == ["U0CAROL"]  # once: the broken --replace changed nothing
    again = run(tmp_path, "teams", "import", "--replace", str(smaller), **env)
    assert "not in the file: 0 people taken out of their team, 0 champions retired" in again.stdout


def test_try_converts_names_as_slack_does_and_lists_who_is_there(tmp_path: Path) -> None:
    env = {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'try.db'}", "COE_ADMINS": "U0ADMIN"}
    listed = run(tmp_path, "try", "--users", **env)
    assert listed.returncode == 0, listed.stderr
    for shown in ("U0ALICE  @alice", "C0COMMUNITY  #ai-community", "S0COE  @coe-admins"):
        assert shown in listed.stdout
    subscribed = run(
        tmp_path,
        "try",
        "/ai-coe digest subscribe #ai-community weekly mon 09:00 Europe/Paris",
        "--user",
        "U0ADMIN",
        **env,
    )
    assert subscribed.returncode == 0, subscribed.stderr
    assert "#ai-community gets the digest every mon at 09:00 (Europe/Paris)" in subscribed.stdout
    trail = json.loads(run(tmp_path, "export", "audit", "--format", "json", **env).stdout)
    assert [e["subject"] for e in trail if e["action"] == "digest.subscribe"] == ["C0COMMUNITY"]
    added = run(
        tmp_path,
        "try",
        "/ai-coe champions add @bob team=payments topics=python",
        "--user",
        "U0ADMIN",
        **env,
    )
    assert "@bob is now a champion of *payments* for python." in added.stdout
    unknown = run(
        tmp_path,
        "try",
        "/ai-coe digest subscribe #nowhere weekly mon 09:00 UTC",
        "--user",
        "U0ADMIN",
        **env,
    )
    assert "Name a channel" in unknown.stdout
    nothing = run(tmp_path, "try", **env)
    assert nothing.returncode == 2
    assert "say what to try" in nothing.stderr


def test_an_export_piped_into_head_ends_quietly(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'p.db'}"
    many = tmp_path / "many.yaml"  # more than a pipe holds (64 KiB), so head closes it early
    many.write_text(
        "".join(
            f"- title: Review checklist number {n}\n  body: |\n"
            + "".join(
                f"    Step {k}: check the diff for problem {k} of case {n}.\n" for k in range(12)
            )
            for n in range(200)
        )
    )
    imported = run(
        tmp_path, "prompts", "import", str(many), "--author", "U0ADMIN", DATABASE_URL=url
    )
    assert imported.returncode == 0, imported.stdout + imported.stderr
    env = clean_env(DATABASE_URL=url)
    piped = subprocess.run(
        f"{' '.join(coe_bot_command())} export audit --format csv | head -1",
        shell=True,
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert "Traceback" not in piped.stderr
    assert "BrokenPipeError" not in piped.stderr
    assert len(piped.stdout.splitlines()) == 1


def test_try_refuses_a_command_that_is_not_coe_bots(tmp_path: Path) -> None:
    done = run(tmp_path, "try", "/ai-cope help")
    assert done.returncode == 2
    assert "'/ai-cope' is not a coe-bot command" in done.stderr


def test_a_topic_may_have_a_slash_and_the_refusal_names_the_separator(tmp_path: Path) -> None:
    env = {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 't.db'}"}
    roster = tmp_path / "teams.csv"
    roster.write_text(
        "user_id,team,is_champion,topics\nU0BOB,payments,true,ci/cd;python\n"
        "U0CAROL,payments,true,c++ (legacy)\n"
    )
    done = run(tmp_path, "teams", "import", str(roster), **env)
    assert "line 3: “c++-(legacy)” is not a topic" in done.stdout
    assert "separate topics with ; in a roster" in done.stdout
    assert "1 person mapped to teams, 1 champion" in done.stdout


def test_exports_write_moments_as_iso_8601(tmp_path: Path) -> None:
    env = {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'iso.db'}"}
    roster = tmp_path / "teams.csv"
    roster.write_text("user_id,team,is_champion,topics\nU0BOB,payments,true,python\n")
    assert run(tmp_path, "teams", "import", str(roster), **env).returncode == 0
    iso = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?\+00:00$")
    rows = json.loads(run(tmp_path, "export", "audit", "--format", "json", **env).stdout)
    moments = [v for row in rows for v in row.values() if isinstance(v, str) and v[:2] == "20"]
    assert moments
    assert all(iso.match(v) for v in moments), moments
    as_csv = run(tmp_path, "export", "audit", **env).stdout
    assert re.search(r",\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", as_csv), as_csv
