"""The demo organisation's monthly report opened in a real browser (Debian's chromium,
headless, driven by Playwright) through a signed link, as a VP opens it: no console error,
nothing fetched but the page, every chart drawn at a readable size, and it prints. The
screenshot and the PDF are kept in `REPORT_ARTIFACTS` (default `artifacts/`)."""

from __future__ import annotations

import datetime as dt
import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import async_playwright
from pydantic import SecretStr

from bot.config import Settings
from bot.reports import links
from bot.services import costs
from tests import report_demo
from tests.conftest import Clock, RunningApp, start_app

SECRET = "browser-report-link-secret-" + "y" * 32
CHARTS = ("adoption", "team-use", "spend", "impact", "surveys", "answer-times")
ARTIFACTS = Path(os.environ.get("REPORT_ARTIFACTS", "artifacts"))


@pytest.fixture
async def app(settings: Settings, clock: Clock) -> AsyncIterator[RunningApp]:
    clock.now = dt.datetime(2026, 12, 1, 8, 0, tzinfo=dt.UTC)
    running, runner = await start_app(
        settings.model_copy(
            update={
                "report_link_secret": SecretStr(SECRET),
                "costs_file": costs.example_path(),
            }
        ),
        clock,
    )
    try:
        yield running
    finally:
        await runner.cleanup()


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        message = "Debian's chromium is not installed (make test-report installs it as root)"
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return found


async def test_the_demo_report_renders_in_chromium_and_reads_well(
    app: RunningApp, clock: Clock
) -> None:
    browser_path = chromium()
    await report_demo.fill(app, now=clock())
    link = links.make(
        secret=SECRET.encode(), base_url=app.url, month="2026-11", now=clock(), days=1
    )
    problems: list[str] = []
    requests: list[str] = []
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=browser_path, args=["--no-sandbox", "--disable-gpu"]
        )
        try:
            page = await browser.new_page(viewport={"width": 1000, "height": 1200})
            page.on(
                "console",
                lambda m: (
                    problems.append(f"console {m.type}: {m.text}")
                    if m.type in ("error", "warning")
                    else None
                ),
            )
            page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
            page.on("requestfailed", lambda r: problems.append(f"request failed: {r.url}"))
            page.on("request", lambda r: requests.append(r.url))
            response = await page.goto(link.url, wait_until="load")
            assert response is not None
            assert response.status == 200
            assert await page.title() == "AI coding tools — November 2026"
            for name in CHARTS:
                chart = page.locator(f"#chart-{name} svg")
                assert await chart.count() == 1, name
                box = await chart.bounding_box()
                assert box is not None, name
                assert box["width"] > 400, (name, box)
                assert box["height"] > 100, (name, box)
                assert await page.locator(f"#chart-{name} svg text").count() > 5, name
            headings = await page.locator("h2").all_inner_texts()
            assert headings == [
                "Adoption and cost",
                "Delivery before and after rollout",
                "What developers say",
                "Champions’ answers",
                "The AI policy",
                "How to read this",
            ]
            await page.screenshot(path=str(ARTIFACTS / "report-monthly.png"), full_page=True)
            await page.emulate_media(media="print")
            pdf = await page.pdf(path=str(ARTIFACTS / "report-monthly.pdf"), format="A4")
            assert pdf.startswith(b"%PDF")
        finally:
            await browser.close()
    assert problems == []
    assert requests == [link.url]  # the page, and nothing else: no script, font or image
    assert (ARTIFACTS / "report-monthly.png").stat().st_size > 100_000
