# aftersales — two commands: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export AFTERSALES_DATA_DIR ?= $(CURDIR)/var
PG_TEST_URL ?= postgres://postgres@127.0.0.1:5432/aftersales

APPS_WITH_CATALOGUES := channels/mail channels/chat channels/phone channels/webhooks knowledge

.PHONY: messages run test install system-deps lint layers typecheck migrations-check test-sqlite test-postgres bench bench-search soak clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

run: install
	$(BIN)/aftersales migrate --noinput
	$(BIN)/aftersales seed_demo --if-empty
	@echo ""
	@echo "  aftersales is starting on http://127.0.0.1:8000/"
	@echo "  Sign in as admin@demo.aftersales.cn, agent@demo.aftersales.cn, technician@demo.aftersales.cn"
	@echo "  or customer@demo.aftersales.cn with the password demo-Passw0rd (see README.md)."
	@echo "  API docs: http://127.0.0.1:8000/api/v1/docs   Admin: http://127.0.0.1:8000/admin/"
	@echo "  Help centre: http://127.0.0.1:8000/help/   Chat widget demo: http://127.0.0.1:8000/chat/demo/"
	@echo ""
	$(BIN)/aftersales serve --host 127.0.0.1 --port 8000

# Debian's Chromium and a CJK font for the browser tests (Playwright must not download a browser),
# Debian's dovecot (the e-mail tests start their own IMAP server) and pdftotext (manual PDF checks).
system-deps:
	@if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/sbin/dovecot ] || [ ! -x /usr/bin/pdftotext ] || ! fc-list 2>/dev/null | grep -qi "wenquanyi\|wqy"; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-wqy-microhei dovecot-imapd poppler-utils >/dev/null; \
	  else \
	    sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-wqy-microhei dovecot-imapd poppler-utils >/dev/null; \
	  fi; \
	fi

lint: install
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

# The layer contracts in pyproject.toml ([tool.importlinter]; docs/architecture.md).
layers: install
	$(BIN)/lint-imports --no-cache --no-logo

typecheck: install
	$(BIN)/mypy src

migrations-check: install
	AFTERSALES_DATA_DIR=$$(mktemp -d) $(BIN)/aftersales makemigrations --check --dry-run

# --dist load, not loadfile/loadgroup: under those xdist ran only the first of schemathesis's
# generated per-endpoint tests.
test-sqlite: install
	AFTERSALES_DATABASE_URL= $(BIN)/pytest -n 2 --dist load

test-postgres: install
	@if ! $(BIN)/python -c "import psycopg; psycopg.connect('$(PG_TEST_URL)'.replace('/aftersales', '/postgres'), connect_timeout=3).close()" 2>/dev/null; then \
	  if [ "$$CI" = "true" ]; then echo "PostgreSQL is not reachable at $(PG_TEST_URL) (required in CI)"; exit 1; fi; \
	  echo "PostgreSQL not reachable: skipping the PostgreSQL run"; exit 0; \
	fi; \
	AFTERSALES_DATABASE_URL=$(PG_TEST_URL) $(BIN)/pytest -n 2 --dist load

test: install system-deps lint layers typecheck migrations-check test-sqlite test-postgres

bench: install
	$(BIN)/python bench/run_all.py

# Ticket search at scale (docs/benchmarks.md): SEARCH_BENCH_ARGS="--size 1000000" for the 1M run.
SEARCH_BENCH_ARGS ?= --size 100000
bench-search: install
	$(BIN)/python bench/ticket_search.py $(SEARCH_BENCH_ARGS)

# Soak with faults (docs/benchmarks.md): 2 web processes, 2 workers and beat on PostgreSQL (database
# aftersales_soak, recreated) and a private redis-server on 6391, under mixed traffic while a worker
# is killed, Redis restarts, SMTP refuses and a webhook receiver fails; then the books are checked.
# Not part of `make test`. SOAK_ARGS="--duration 90 --clients 16" for a short run.
SOAK_ARGS ?= --duration 600 --clients 32
soak: install
	$(BIN)/python -m bench.soak $(SOAK_ARGS)

# Gather translatable strings: each app with its own catalogue (src/aftersales/<app>/locale), the
# rest into src/aftersales/locale. Fill the msgstrs, then `make compilemessages`.
MAKEMESSAGES = AFTERSALES_DATA_DIR=$$(mktemp -d) DJANGO_SETTINGS_MODULE=aftersales.settings $(CURDIR)/$(BIN)/django-admin makemessages -l zh_Hans --no-obsolete
messages: install
	for app in $(APPS_WITH_CATALOGUES); do (cd src/aftersales/$$app && $(MAKEMESSAGES) --ignore "migrations/*"); done
	cd src/aftersales && $(MAKEMESSAGES) --ignore "*/migrations/*" --ignore "*/vendor/*" $(foreach app,$(APPS_WITH_CATALOGUES),--ignore "$(app)/*")

compilemessages:
	for po in $$(find src/aftersales -name django.po -path "*zh_Hans*"); do msgfmt --check-format -o $${po%.po}.mo $$po; done

clean:
	rm -rf $(VENV) var .mypy_cache .ruff_cache
