# LedgerLens developer tasks. `make demo` and `make test` are the README's two commands; both
# create the virtual environment and install everything the project needs on first use.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: install browser loadgen demo test lint format coverage-doc screenshots bench clean

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# Browser tests drive Debian's chromium (no browser download); installed here when missing.
browser:
	@command -v chromium >/dev/null 2>&1 || { apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

# The API benchmark drives the server with wrk (a real load generator), from Debian's packages.
loadgen:
	@command -v wrk >/dev/null 2>&1 || { apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }

demo: install
	$(BIN)/ledgerlens demo

test: install browser lint
	$(BIN)/pytest -n 2 --dist loadfile -q

lint: install
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/lint-imports
	$(BIN)/mypy

format: install
	$(BIN)/ruff check --fix src tests benchmarks
	$(BIN)/ruff format src tests benchmarks

coverage-doc: install
	$(BIN)/ledgerlens ingest-coverage --data ../shared/data/external --output docs/ingest-coverage.md

screenshots: install browser
	$(BIN)/python -m ledgerlens.jobs.screenshots --out docs/screenshots

# the forecast is measured side by side with its peers (Prophet, statsforecast): an extra
bench: install loadgen
	$(BIN)/python -m pip install --quiet -e '.[dev,peers]'
	$(BIN)/python -m benchmarks.run

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
