"""`coe-bot try` against a running server: the command goes to the server that `make run`
started, through its Slack stand-in, and what the bot sends afterwards is shown."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import time
from collections.abc import AsyncIterator
from pathlib import Path
from unittest.mock import Mock

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import make_mocked_request

from bot.services.policy_pack import default_pack_path
from bot.standin import FakeSlack, console
from tests.conftest import RunningApp
from tests.helpers import clean_env, coe_bot_command


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _try(cwd: Path, *args: str, **variables: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*coe_bot_command(), "try", *args],
        cwd=cwd,
        env=clean_env(**variables),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


async def _try_async(cwd: Path, *args: str, **variables: str) -> subprocess.CompletedProcess[str]:
    return await asyncio.to_thread(_try, cwd, *args, **variables)


@pytest.fixture
async def standin_server(tmp_path: Path) -> AsyncIterator[tuple[str, dict[str, str]]]:
    """`coe-bot serve` with no Slack credentials (what `make run` starts), on a free port;
    yields its URL and the environment a terminal beside it has."""
    port = _free_port()
    env = {
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'serve.db'}",
        "COE_ADMINS": "U0ADMIN",
        "PORT": str(port),
    }
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        process = await asyncio.create_subprocess_exec(
            *coe_bot_command(),
            "serve",
            "--port",
            str(port),
            cwd=tmp_path,
            env=clean_env(**env),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=out,
            stderr=out,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=1)) as http:
            while True:
                assert process.returncode is None, log.read_text()
                try:
                    async with http.get(f"{base}/healthz") as res:
                        if res.status == 200:
                            break
                except (aiohttp.ClientError, TimeoutError):
                    pass
                assert time.monotonic() < deadline, log.read_text()
                await asyncio.sleep(0.1)
        yield base, env
        assert "Traceback" not in log.read_text()
    finally:
        process.terminate()
        await process.wait()


async def test_try_sends_the_command_to_the_running_server_and_shows_what_the_bot_sent_later(
    standin_server: tuple[str, dict[str, str]], tmp_path: Path
) -> None:
    base, env = standin_server

    reload = await _try_async(tmp_path, "/ai-coe policy reload", "--user", "U0ADMIN", **env)
    assert reload.returncode == 0, reload.stderr
    assert f"(as U0ADMIN, on the server at {base})" in reload.stdout
    assert "loaded from `the shipped default pack`" in reload.stdout

    asked = await _try_async(tmp_path, "/ask-champion how do I test code that calls an LLM?", **env)
    assert asked.returncode == 0, asked.stderr
    reply, _, later = asked.stdout.partition("── the bot sent a DM to")
    assert "Finding a champion" in reply
    assert "how do I test code that calls an LLM?" in later  # the DM the question went out in

    opened = await _try_async(tmp_path, "/prompts add", **env)
    assert "── a modal opens: Add a prompt ──" in opened.stdout

    async with aiohttp.ClientSession() as http, http.get(f"{base}/metrics") as res:
        metrics = await res.text()
    assert 'coe_bot_requests_total{command="/ai-coe",outcome="ok"} 1.0' in metrics
    assert 'coe_bot_requests_total{command="/ask-champion",outcome="ok"} 1.0' in metrics


async def test_try_converts_names_on_the_server_as_slack_does(
    standin_server: tuple[str, dict[str, str]], tmp_path: Path
) -> None:
    _base, env = standin_server
    done = await _try_async(
        tmp_path,
        "/ai-coe digest subscribe #ai-community weekly mon 09:00 UTC",
        "--user",
        "U0ADMIN",
        **env,
    )
    assert done.returncode == 0, done.stderr
    assert "#ai-community" in done.stdout
    assert "isn't a channel" not in done.stdout


def test_try_with_a_url_where_nothing_answers_says_so_and_does_nothing(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{_free_port()}"
    done = _try(tmp_path, "/ai-policy copilot", "--url", url)
    assert done.returncode == 1
    assert done.stdout == ""
    assert f"no server answers at {url}" in done.stderr
    assert "make run" in done.stderr


async def test_try_refuses_a_server_connected_to_real_slack(
    running: RunningApp, tmp_path: Path
) -> None:
    """`running` is the app as it runs with real Slack credentials: it has no console."""
    refused = await _try_async(tmp_path, "/ai-policy copilot", "--url", running.url)
    assert refused.returncode == 1
    assert refused.stdout == ""
    assert "not running the Slack stand-in" in refused.stderr

    port = running.url.rsplit(":", 1)[1]  # the default server is that one: try runs here
    here = await _try_async(tmp_path, "/ai-policy copilot", PORT=port)
    assert here.returncode == 0, here.stderr
    assert "Copilot" in here.stdout
    assert "on the server" not in here.stdout
    assert "runs in this process instead" in here.stderr

    async with aiohttp.ClientSession() as http:
        for path in (console.LOG_PATH, console.COMMAND_PATH):
            async with http.post(f"{running.url}{path}", json={}) as res:
                assert res.status in {404, 405}


async def test_the_console_answers_only_this_machine() -> None:
    async with FakeSlack(open_directory=True) as slack:
        app = web.Application()
        console.attach(app, slack, "http://127.0.0.1:9/slack/events", "secret")
        for peer, allowed in ((("127.0.0.1", 5000), True), (("192.0.2.7", 5000), False)):
            transport = Mock()
            transport.get_extra_info.side_effect = lambda key, _p=peer: (
                _p if key == "peername" else None
            )
            request = make_mocked_request(
                "GET", f"{console.LOG_PATH}?calls=0&responses=0", app=app, transport=transport
            )
            match = await app.router.resolve(request)
            if allowed:
                res = await match.handler(request)
                assert res.status == 200
            else:
                with pytest.raises(web.HTTPNotFound):
                    await match.handler(request)


async def test_a_pack_named_in_env_after_the_start_is_what_reload_loads(
    standin_server: tuple[str, dict[str, str]], tmp_path: Path
) -> None:
    """The README's way: copy the pack, name it in .env, reload the running server."""
    _base, env = standin_server
    mine = tmp_path / "my-policy.yaml"
    mine.write_text(
        default_pack_path()
        .read_text()
        .replace('version: "2026.11.0"', 'version: "2026.12.0-mine"', 1)
    )
    (tmp_path / ".env").write_text("POLICY_PACK=my-policy.yaml\n")
    done = await _try_async(tmp_path, "/ai-coe policy reload", "--user", "U0ADMIN", **env)
    assert done.returncode == 0, done.stderr
    assert "version *2026.12.0-mine* loaded from `my-policy.yaml`" in done.stdout
    asked = await _try_async(tmp_path, "/ai-policy", **env)
    assert "2026.12.0-mine" in asked.stdout  # the server answers from it


def test_try_takes_names_refuses_what_is_not_an_id_and_says_when_it_ran_here(
    tmp_path: Path,
) -> None:
    env = {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'try.db'}"}
    by_name = _try(tmp_path, "/ai-policy copilot", "--user", "@erin", **env)
    assert by_name.returncode == 0, by_name.stderr
    first, note = by_name.stdout.splitlines()[:2]
    assert first == "/ai-policy copilot  (as U0ERIN)"
    assert "no coe-bot server answers at" in note
    assert "is not shown. Start make run to see it." in note
    for user, said in (("erin", "--user takes a Slack user ID"), ("@nobody", "nobody is called")):
        refused = _try(tmp_path, "/ai-policy copilot", "--user", user, **env)
        assert refused.returncode == 2
        assert said in refused.stderr
        assert refused.stdout == ""
    local = _try(tmp_path, "/ai-policy copilot", "--local", **env)
    assert "no coe-bot server answers" not in local.stdout  # asked for: nothing to explain
