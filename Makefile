# coe-bot: `make run` and `make test` work on a fresh machine with only Python 3.11+.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint typecheck pytest migrate bench clean test-report

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "coe-bot needs Python 3.11 or newer")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/coe-bot serve --port $${PORT:-3000}

migrate: $(STAMP)
	$(BIN)/coe-bot migrate

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy bot

pytest: $(STAMP)
	$(BIN)/pytest

test: lint typecheck pytest

bench: $(STAMP)
	@command -v wrk >/dev/null || (command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ] && \
		(apt-get install -y -qq wrk || (apt-get update -qq && apt-get install -y -qq wrk))) || \
		echo "wrk is needed for the HTTP benchmark: install it (apt-get install wrk)"
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache coe-bot.db coe-bot.db-wal coe-bot.db-shm

# The monthly report in a real browser: Debian's chromium (installed here when run as root
# on a Debian-like machine), Playwright driving it. Artefacts: artifacts/report-monthly.png
# and .pdf. `make test` does not need a browser; `.ci/run` calls this as well.
REPORT_STAMP := $(VENV)/.installed-report-test

$(REPORT_STAMP): $(STAMP)
	PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 $(BIN)/python -m pip install --quiet -e '.[dev,report-test]'
	touch $(REPORT_STAMP)

test-report: $(REPORT_STAMP)
	@command -v chromium >/dev/null || (command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ] && \
		(apt-get install -y -qq chromium >/dev/null || \
		 (apt-get update -qq && apt-get install -y -qq chromium >/dev/null))) || \
		echo "chromium could not be installed here: the browser test is skipped"
	COE_BROWSER_TESTS=1 $(BIN)/pytest -q -p no:cacheprovider tests/browser
