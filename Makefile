# Inovasi Hub. `make help` lists the targets.
.DEFAULT_GOAL := help
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
UV_VERSION := 0.13.9
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: help install run test lint format typecheck pytest reliability migrate key openapi wrk bench bench-full bench-ingest bench-dashboards chromium e2e clean

help: ## List the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z0-9_-]+:.*## / {printf "  \033[36m%-12s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

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

ROLE ?= admin
key: install ## Print a new API key alone: make -s key ROLE=integration PROVINCE=33 (ROLE admin, reviewer, coordinator, integration, evaluator, submitter with INSTITUTION=id; NAME=…)
	@$(BIN)/inovasi keys create --name "$(or $(NAME),$(ROLE)$(if $(PROVINCE), $(PROVINCE)))" --role $(ROLE)$(if $(PROVINCE), --province $(PROVINCE))$(if $(INSTITUTION), --institution $(INSTITUTION))

openapi: install ## Regenerate the committed openapi.json
	$(BIN)/python -m app.openapi > openapi.json

WRK := $(shell command -v wrk 2>/dev/null)

wrk: ## Install the load generator (Debian's wrk) when it is missing
ifeq ($(WRK),)
	$(if $(shell command -v sudo 2>/dev/null),sudo )apt-get install -y --no-install-recommends wrk
endif

CHROMIUM := $(shell command -v chromium 2>/dev/null)
CHROMEDRIVER := $(shell command -v chromedriver 2>/dev/null)
SUDO := $(if $(shell command -v sudo 2>/dev/null),sudo )

chromium: ## Install the headless browser for e2e (Debian's chromium and chromium-driver) when missing
ifeq ($(and $(CHROMIUM),$(CHROMEDRIVER)),)
	$(SUDO)apt-get update
	$(SUDO)apt-get install -y --no-install-recommends chromium chromium-driver
endif

e2e: install chromium ## Swagger UI and ReDoc in headless Chromium with no internet, on the demo data (screenshots in .data/e2e)
	$(BIN)/python -m tests.e2e.docs_e2e

bench: install wrk ## Service vs raw asyncpg baseline, 10k innovations, every scenario (a few minutes)
	$(BIN)/python -m bench.run

bench-full: install wrk ## The same at 10k, 100k and 1M innovations, 3 pairs each, 1 and 2 workers (about an hour the first time: seeding 1M)
	$(BIN)/python -m bench.run --full

bench-ingest: install wrk ## Batch ingestion alone (bulk_ingest, 10k innovations): reports/s and CPU per batch
	$(BIN)/python -m bench.run --scenarios bulk_ingest --output bench/results/bulk_ingest.json

bench-dashboards: install ## The dashboards' reads and the export one at a time (10k and 100k innovations)
	$(BIN)/python -m bench.dashboards --sizes 10000,100000

clean: ## Remove the virtual environment and caches (keeps .data)
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
