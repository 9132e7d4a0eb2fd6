# Two promises: `make run` and `make test` work on a fresh machine with python3 (3.11+).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST = 127.0.0.1
PORT = 8050
DEMO_DIR = instance/demo

.PHONY: run run-prod test test-fast lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

# Development: the demo data and, the first time, demo accounts whose passwords `zetrials demo` prints once.
# `zetrials serve` runs import jobs on a worker thread of its own, queued in instance/queue.sqlite: no Redis needed.
run: export ZETRIALS_ENV = development
run: $(STAMP)
	$(BIN)/zetrials init
	$(BIN)/zetrials demo --if-empty --dir $(DEMO_DIR)
	$(BIN)/zetrials serve --host $(HOST) --port $(PORT)

# Production: PostgreSQL and a real secret are required; TLS terminates in front (see README).
# Imports run on workers beside gunicorn, started apart with the same DATABASE_URL, SECRET_KEY and REDIS_URL:
#   .venv/bin/zetrials worker --threads 2 --nice 10   (one or more, on any host that reaches the database and Redis)
run-prod: $(STAMP)
	@test -n "$$DATABASE_URL" || (echo "set DATABASE_URL=postgresql://..." && exit 2)
	@test -n "$$SECRET_KEY" || (echo "set SECRET_KEY to a long random string" && exit 2)
	@test -n "$$REDIS_URL" || echo "REDIS_URL is not set: import jobs queue in instance/queue.sqlite, for workers on this host only"
	@echo "Import jobs run on workers started apart: .venv/bin/zetrials worker --nice 10 (same DATABASE_URL, SECRET_KEY, REDIS_URL)"
	$(BIN)/zetrials init
	$(BIN)/gunicorn --workers $${WORKERS:-8} --threads $${THREADS:-1} --keep-alive $${KEEP_ALIVE:-0} --bind $${BIND:-127.0.0.1:8050} --access-logfile - 'app.serving:server_app()'

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy app trials importers reports
	$(BIN)/lint-imports
	$(BIN)/bandit --quiet --configfile pyproject.toml --recursive app trials importers reports

# Tests run on every core (pytest-xdist); the browser tests share one worker, one Chromium at a time.
# They start many Python processes (xdist workers, servers, the CLI): each reads the bytecode the first one wrote,
# and pytest's assertion rewrites, instead of compiling them again, even where the host sets PYTHONDONTWRITEBYTECODE.
test test-fast: export PYTHONDONTWRITEBYTECODE =
test: lint
	$(BIN)/pytest -n auto --dist loadgroup

# Every test but the long system tests marked `slow`, without the linters: for the edit-and-check loop.
test-fast: $(STAMP)
	$(BIN)/pytest -n auto --dist loadgroup -m "not slow"

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache
