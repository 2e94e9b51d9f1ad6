"""Side by side: the real `coe-bot serve` and a bare Bolt app, same signed slash commands.

Both run as their own processes; wrk drives each at 32 connections for 10 s, alternating,
with requests pre-signed just before each run (Slack rejects timestamps over 5 minutes).
"""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import aiohttp

from benchmarks.queries import QUERIES
from bot.standin import FakeSlack
from bot.standin.sender import signature

HERE = Path(__file__).resolve().parent
SECRET = "bench-signing-secret"


@dataclass
class Run:
    name: str
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    errors: int

    @property
    def rps(self) -> float:
        return self.requests / self.seconds


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


PROMPT_SEARCHES = [
    "unit tests",
    "refactor",
    "code review security",
    "sql query",
    "migration",
    "docstring",
    "flaky test",
    "tag:testing",
    "commit message",
    "performance profiling",
    "regex",
    "dependency upgrade",
    "threat model",
    "junit",
    "readme",
    "explain code",
    "logging",
    "pull request description",
    "property based tests",
    "",
]


def signed_requests(
    path: Path, count: int, *, distinct: bool = False, command: str = "/ai-policy"
) -> None:
    """Pre-signed commands; `distinct` makes every question unique (no reply is cached)."""
    now = int(time.time())
    with path.open("w") as out:
        for i in range(count):
            body = urlencode(
                {
                    "token": "bench",
                    "team_id": "T0STANDIN",
                    "team_domain": "standin",
                    "channel_id": "C0GENERAL",
                    "channel_name": "general",
                    "user_id": f"U0B{i % 500:05d}",
                    "user_name": f"dev{i % 500}",
                    "command": command,
                    "text": _text(command, i, distinct),
                    "api_app_id": "A0STANDIN",
                    "is_enterprise_install": "false",
                    "response_url": "http://127.0.0.1:9/unused",
                    "trigger_id": f"{now}.{i}.{secrets.token_hex(8)}",
                }
            )
            out.write(f"{now}\t{signature(SECRET, body.encode(), now)}\t{body}\n")


def _text(command: str, i: int, distinct: bool) -> str:
    if command == "/prompts":
        return PROMPT_SEARCHES[i % len(PROMPT_SEARCHES)]
    return QUERIES[i % len(QUERIES)] + (f" team{i}" if distinct else "")


def stand_in_env(slack: FakeSlack, database_url: str, secret: str, **extra: str) -> dict[str, str]:
    """`coe-bot serve`'s environment against the Slack stand-in, quiet logs, plus `extra`."""
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "SLACK_API_URL": slack.api_url,
        "SLACK_BOT_TOKEN": slack.bot_token,
        "SLACK_SIGNING_SECRET": secret,
        "LOG_LEVEL": "WARNING",
        **extra,
    }


def serve(env: dict[str, str], port: int, work: Path) -> subprocess.Popen[bytes]:
    """The real `coe-bot serve` in its own process, output discarded."""
    return subprocess.Popen(
        [sys.executable, "-m", "bot", "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        cwd=work,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


async def wait_healthy(url: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    async with aiohttp.ClientSession() as session:
        while time.monotonic() < deadline:
            try:
                async with session.get(url) as response:
                    if response.status < 500:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.2)
    raise RuntimeError(f"{url} did not come up")


def wrk(name: str, port: int, requests_file: Path, seconds: int, connections: int) -> Run:
    result = subprocess.run(
        [
            "wrk",
            "-t2",
            f"-c{connections}",
            f"-d{seconds}s",
            "--latency",
            "-s",
            str(HERE / "load.lua"),
            f"http://127.0.0.1:{port}",
            "--",
            str(requests_file),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    line = next(x for x in result.stdout.splitlines() if x.startswith("RESULT "))
    requests, duration_us, p50, p99, status_errors, other = (int(v) for v in line.split()[1:])
    return Run(name, requests, duration_us / 1e6, p50 / 1000, p99 / 1000, status_errors + other)


async def run(seconds: int = 10, rounds: int = 2, connections: int = 32) -> dict[str, object]:
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is needed for the HTTP benchmark: apt-get install wrk")
    work = Path(tempfile.mkdtemp(prefix="coe-bench-"))
    async with FakeSlack() as slack:
        url = os.environ.get("BENCH_DATABASE_URL", f"sqlite+aiosqlite:///{work / 'bench.db'}")
        env = stand_in_env(slack, url, SECRET)
        coe_port, bare_port, inline_port = free_port(), free_port(), free_port()
        seeded = subprocess.run(  # the shipped starter library, so searches find prompts
            [sys.executable, "-m", "bot", "prompts", "import", "--starter"],
            env=env,
            cwd=work,
            capture_output=True,
            text=True,
            check=True,
        )
        assert "added" in seeded.stdout
        coe = subprocess.Popen(
            [sys.executable, "-m", "bot", "serve", "--host", "127.0.0.1", "--port", str(coe_port)],
            env=env,
            cwd=work,
        )
        bare = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "benchmarks.bare_bolt",
                str(bare_port),
                slack.api_url,
                slack.bot_token,
                SECRET,
            ],
            env=env,
            cwd=Path.cwd(),
        )
        inline = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "benchmarks.bare_bolt",
                str(inline_port),
                slack.api_url,
                slack.bot_token,
                SECRET,
                "inline",
            ],
            env=env,
            cwd=Path.cwd(),
        )
        try:
            await wait_healthy(f"http://127.0.0.1:{coe_port}/healthz")
            await wait_healthy(f"http://127.0.0.1:{bare_port}/slack/events")
            await wait_healthy(f"http://127.0.0.1:{inline_port}/slack/events")
            targets = (
                ("coe-bot", coe_port, False, "/ai-policy"),
                ("coe-bot-distinct-questions", coe_port, True, "/ai-policy"),
                ("coe-bot-prompts-search", coe_port, False, "/prompts"),
                ("bare-bolt", bare_port, False, "/ai-policy"),
                ("bare-bolt-inline-ack", inline_port, False, "/ai-policy"),
            )
            runs: dict[str, list[Run]] = {name: [] for name, _, _, _ in targets}
            for round_no in range(rounds + 1):  # round 0 warms both up
                for name, port, distinct, command in targets:
                    requests_file = work / f"{name}.tsv"
                    await asyncio.to_thread(
                        signed_requests, requests_file, 80_000, distinct=distinct, command=command
                    )
                    length = 2 if round_no == 0 else seconds
                    result = await asyncio.to_thread(
                        wrk, name, port, requests_file, length, connections
                    )
                    if round_no:
                        runs[name].append(result)
        finally:
            for process in (coe, bare, inline):
                process.terminate()
                process.wait(timeout=15)
    summary: dict[str, object] = {}
    for name, results in runs.items():
        summary[name] = {
            "rps": round(statistics.mean(r.rps for r in results), 1),
            "p50_ms": round(statistics.mean(r.p50_ms for r in results), 2),
            "p99_ms": round(statistics.mean(r.p99_ms for r in results), 2),
            "errors": sum(r.errors for r in results),
            "runs": [round(r.rps, 1) for r in results],
        }
    for name in ("coe-bot", "coe-bot-distinct-questions", "coe-bot-prompts-search"):
        for baseline in ("bare-bolt", "bare-bolt-inline-ack"):
            summary[f"ratio {name} / {baseline}"] = round(
                summary[name]["rps"] / summary[baseline]["rps"],  # type: ignore[index]
                3,
            )
    summary["connections"] = connections
    summary["seconds_per_run"] = seconds
    return summary
