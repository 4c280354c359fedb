# Inovasi Hub. `make help` lists the targets.
.DEFAULT_GOAL := help
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
UV_VERSION := 0.13.9
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: help install run test lint format typecheck pytest reliability migrate openapi wrk bench bench-full bench-ingest clean

help: ## List the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  \033[36m%-12s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(BIN)/uv:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet "uv==$(UV_VERSION)"

$(VENV)/.synced: $(BIN)/uv pyproject.toml uv.lock
	$(BIN)/uv sync --frozen --quiet
	@touch $@

install: $(VENV)/.synced ## Create .venv and install the locked dependencies

run: install ## Serve on 127.0.0.1:8000 with the demo data (embedded PostgreSQL unless DATABASE_URL is set), print an admin key
	$(BIN)/inovasi dev --host $(HOST) --port $(PORT)

test: install lint typecheck pytest ## Lint, type check and the whole test suite

lint: install ## ruff check and format check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install ## Format the code
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

typecheck: install ## mypy (strict)
	$(BIN)/mypy app

pytest: install ## The test suite (TEST_DATABASE_URL, else the embedded PostgreSQL), less the slow fault tests
	$(BIN)/pytest -q -m "not slow"

reliability: install ## Every fault test (a few minutes), printing its figures
	$(BIN)/pytest -s -v tests/reliability

migrate: install ## Apply migrations to DATABASE_URL (or the embedded database)
	$(BIN)/inovasi migrate

openapi: install ## Regenerate the committed openapi.json
	$(BIN)/python -m app.openapi > openapi.json

WRK := $(shell command -v wrk 2>/dev/null)

wrk: ## Install the load generator (Debian's wrk) when it is missing
ifeq ($(WRK),)
	$(if $(shell command -v sudo 2>/dev/null),sudo )apt-get install -y --no-install-recommends wrk
endif

bench: install wrk ## Service vs raw asyncpg baseline, 10k innovations, every scenario (a few minutes)
	$(BIN)/python -m bench.run

bench-full: install wrk ## The same at 10k, 100k and 1M innovations, 3 pairs each, 1 and 2 workers (about an hour the first time: seeding 1M)
	$(BIN)/python -m bench.run --full

bench-ingest: install ## Batch ingestion alone: reports/s and CPU per batch (about a minute)
	$(BIN)/python -m bench.ingest

clean: ## Remove the virtual environment and caches (keeps .data)
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
