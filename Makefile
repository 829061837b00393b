# aftersales — two commands: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export AFTERSALES_DATA_DIR ?= $(CURDIR)/var
PG_TEST_URL ?= postgres://postgres@127.0.0.1:5432/aftersales

.PHONY: run test install system-deps lint typecheck migrations-check test-sqlite test-postgres bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

run: install
	$(BIN)/aftersales migrate --noinput
	$(BIN)/aftersales seed_demo --if-empty
	$(BIN)/aftersales serve --host 127.0.0.1 --port 8000

# Debian's Chromium and a CJK font for the browser tests (Playwright must not download a browser).
system-deps:
	@if [ ! -x /usr/bin/chromium ] || ! fc-list 2>/dev/null | grep -qi "wenquanyi\|wqy"; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-wqy-microhei >/dev/null; \
	  else \
	    sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-wqy-microhei >/dev/null; \
	  fi; \
	fi

lint: install
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: install
	$(BIN)/mypy src

migrations-check: install
	AFTERSALES_DATA_DIR=$$(mktemp -d) $(BIN)/aftersales makemigrations --check --dry-run

test-sqlite: install
	AFTERSALES_DATABASE_URL= $(BIN)/pytest -n 2 --dist loadgroup

test-postgres: install
	@if ! $(BIN)/python -c "import psycopg; psycopg.connect('$(PG_TEST_URL)'.replace('/aftersales', '/postgres'), connect_timeout=3).close()" 2>/dev/null; then \
	  if [ "$$CI" = "true" ]; then echo "PostgreSQL is not reachable at $(PG_TEST_URL) (required in CI)"; exit 1; fi; \
	  echo "PostgreSQL not reachable: skipping the PostgreSQL run"; exit 0; \
	fi; \
	AFTERSALES_DATABASE_URL=$(PG_TEST_URL) $(BIN)/pytest -n 2 --dist loadgroup -m "not browser"

test: install system-deps lint typecheck migrations-check test-sqlite test-postgres

bench: install
	$(BIN)/python bench/run_all.py

clean:
	rm -rf $(VENV) var .mypy_cache .ruff_cache
