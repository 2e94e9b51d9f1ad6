"""Browser tests run only under `make test-report` (COE_BROWSER_TESTS=1): they need Debian's
chromium and Playwright (the `report-test` extra), which `make test` does not install."""

from __future__ import annotations

import os
from pathlib import Path

import pytest


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    if os.environ.get("COE_BROWSER_TESTS") == "1":
        return None
    return True
