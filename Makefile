# LabelHub developer entry points.  `make help` lists them.
#
#   make run  [ARGS="--flag ..."]         set up, then `labelhub start` (SQLite, 127.0.0.1:8080)
#   make test [PYTEST_ARGS="-k foo -x"]   suite on PostgreSQL+Redis and on SQLite, side by side
#                                         (TEST_SERIAL=1: one after the other)
#
# LABELHUB_* environment variables pass straight through to `labelhub start`.

SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory

VENV ?= .venv
export VENV
PY := $(VENV)/bin/python

ARGS ?=
PYTEST_ARGS ?=
BENCH ?= bench/[!_]*.py

TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/labelhub
TEST_REDIS_URL ?= redis://127.0.0.1:6379/0
BENCH_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/labelhub_bench
BENCH_REDIS_URL ?= redis://127.0.0.1:6379/1

# $(call pytest_run,LABEL,ENV ASSIGNMENTS,EXTRA PYTEST ARGS)
# Runs pytest with a throwaway LABELHUB_DATA_DIR and leaves its exit code in $rc.
# Exit 5 ("no tests collected") is reported, and counted, as a failure.
define pytest_run
label='$(1)'; rc=0; data="$$(mktemp -d -t labelhub-test.XXXXXX)"; \
echo "==> [$$label] $(VENV)/bin/python -m pytest $(3) $(PYTEST_ARGS)"; \
env $(2) LABELHUB_DATA_DIR="$$data" $(PY) -m pytest $(3) $(PYTEST_ARGS) </dev/null || rc=$$?; \
rm -rf "$$data"; \
if [ "$$rc" -eq 5 ]; then echo "ERROR [$$label]: pytest collected NO tests (exit 5); counted as a failure" >&2; \
elif [ "$$rc" -ne 0 ]; then echo "ERROR [$$label]: pytest FAILED (exit $$rc)" >&2; \
else echo "==> [$$label] passed"; fi
endef

PG_ENV := DATABASE_URL='$(TEST_DATABASE_URL)' REDIS_URL='$(TEST_REDIS_URL)'
SQLITE_ENV := DATABASE_URL= REDIS_URL=


.PHONY: help setup setup-test check-setup editor lock services run test test-postgres test-sqlite lint mypy bench load compat clean distclean

help: ## list the targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

setup: ## create .venv, install LabelHub, fetch the editor
	bash scripts/setup.sh

setup-test: ## setup plus test extras and Debian test packages (chromium, unar, libarchive-tools)
	bash scripts/setup.sh --test

check-setup: ## build throwaway venvs from the locks with no pip cache, as a fresh machine would
	bash scripts/check_setup.sh

editor: ## fetch and verify the embedded editors (frontend/static/editor-ls/VERSION/, frontend/static/editor/VERSION/)
	bash scripts/fetch_editor_ls.sh
	bash scripts/fetch_editor.sh

lock: ## rewrite requirements.lock and requirements-test.lock (hash-pinned) from pyproject.toml
	$(PY) -m pip install -q pip-tools
	$(PY) -m piptools compile -q --generate-hashes --strip-extras --allow-unsafe \
	  --no-emit-index-url --no-emit-find-links -o requirements.lock pyproject.toml
	$(PY) -m piptools compile -q --generate-hashes --strip-extras --allow-unsafe \
	  --no-emit-index-url --no-emit-find-links --extra test -o requirements-test.lock pyproject.toml

services: ## start PostgreSQL and Redis for the tests if they are down
	DATABASE_URL='$(TEST_DATABASE_URL)' REDIS_URL='$(TEST_REDIS_URL)' bash scripts/services.sh start

run: setup ## run LabelHub on 127.0.0.1:8080 (SQLite + data dir); extra flags via ARGS=
	exec $(VENV)/bin/labelhub start $(ARGS)

# `make test` runs three pytest processes side by side (the tests wait on servers and
# browsers much of the time, so two cores do more than one): the PostgreSQL run in two
# shards, each with a database and a Redis index of its own, and the SQLite run.
PG_SHARD_A := tests/frontend tests/exporters $(wildcard tests/test_*.py)
PG_SHARD_B := tests --ignore=tests/frontend --ignore=tests/exporters --ignore-glob='tests/test_*.py'
# The browser tests of tests/frontend (95, driving Chromium) run once, in shard A: they
# test the pages, and the API under them runs on both databases. With them the SQLite run
# was the long pole (15 minutes against 12-13 for the PostgreSQL shards, 2026-12-07).
SQLITE_SHARD := --ignore=tests/frontend
TEST_DATABASE_URL_B ?= $(TEST_DATABASE_URL)_b
TEST_REDIS_URL_B ?= redis://127.0.0.1:6379/2
PG_ENV_B := DATABASE_URL='$(TEST_DATABASE_URL_B)' REDIS_URL='$(TEST_REDIS_URL_B)'
# The storage emulators listen on fixed ports from a base: one base per process.
PORTS_A := LABELHUB_TEST_STORAGE_PORT_BASE=18600
PORTS_B := LABELHUB_TEST_STORAGE_PORT_BASE=18640
PORTS_C := LABELHUB_TEST_STORAGE_PORT_BASE=18680
DURATIONS := --durations=15

test: setup-test lint services ## lint, then the suite on PostgreSQL+Redis (two shards) and on SQLite, side by side; all must pass
	@mkdir -p .cache; \
	if [ -n "$${TEST_SERIAL:-}" ]; then \
	  $(call pytest_run,postgres,$(PG_ENV),-m 'not embedded' $(DURATIONS)); pg=$$rc; pgb=0; \
	  $(call pytest_run,sqlite,$(SQLITE_ENV),-m 'not postgres' $(DURATIONS)); sq=$$rc; \
	else \
	  echo "==> three runs side by side; follow them with: tail -f .cache/test-*.log"; \
	  ( $(call pytest_run,postgres A,$(PG_ENV) $(PORTS_A),-m 'not embedded' $(DURATIONS) $(PG_SHARD_A)); exit $$rc ) >.cache/test-postgres-a.log 2>&1 & a=$$!; \
	  ( $(call pytest_run,postgres B,$(PG_ENV_B) $(PORTS_B),-m 'not embedded' $(DURATIONS) $(PG_SHARD_B)); exit $$rc ) >.cache/test-postgres-b.log 2>&1 & b=$$!; \
	  ( $(call pytest_run,sqlite,$(SQLITE_ENV) $(PORTS_C),-m 'not postgres' $(DURATIONS) $(SQLITE_SHARD)); exit $$rc ) >.cache/test-sqlite.log 2>&1 & c=$$!; \
	  pg=0; wait $$a || pg=$$?; pgb=0; wait $$b || pgb=$$?; sq=0; wait $$c || sq=$$?; \
	  for f in postgres-a postgres-b sqlite; do echo "==> .cache/test-$$f.log"; cat ".cache/test-$$f.log"; done; \
	fi; \
	echo "==> summary: postgres exit $$pg (shard B $$pgb), sqlite exit $$sq"; \
	if [ "$$pg" -ne 0 ] || [ "$$pgb" -ne 0 ] || [ "$$sq" -ne 0 ]; then \
	  echo "make test: FAILED (a non-zero exit above, including 5 = no tests, fails the build)" >&2; exit 1; \
	fi; \
	echo "make test: all runs passed"

test-postgres: setup-test services ## only the PostgreSQL+Redis run
	@$(call pytest_run,postgres,$(PG_ENV),-m 'not embedded'); exit $$rc

test-sqlite: setup-test ## only the SQLite run (-m 'not postgres')
	@$(call pytest_run,sqlite,$(SQLITE_ENV),-m 'not postgres'); exit $$rc

# mypy (with django-stubs) checks the services and selectors: the typed, keyword-only
# functions every view and job calls.
TYPED := $(wildcard */services.py */selectors.py) projects/accounts_services.py projects/accounts_selectors.py projects/tokens.py labelhub/jobs.py

lint: ## ruff check + format check, import-linter layering, mypy on services/selectors
	bash scripts/setup.sh --test --no-system
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	DATABASE_URL= $(VENV)/bin/mypy $(TYPED)

mypy: ## mypy on the services and selectors (part of lint; the pre-commit hook runs it)
	DATABASE_URL= $(VENV)/bin/mypy $(TYPED)

bench: ## run bench/*.py (or BENCH=bench/x.py) against PostgreSQL+Redis; output in bench/out/
	bash scripts/setup.sh --test --no-system
	DATABASE_URL='$(BENCH_DATABASE_URL)' REDIS_URL='$(BENCH_REDIS_URL)' bash scripts/services.sh ensure-db
	@shopt -s nullglob; files=($(BENCH)); \
	if [ $${#files[@]} -eq 0 ]; then echo "bench: no benchmarks match '$(BENCH)'; nothing to run"; exit 0; fi; \
	mkdir -p bench/out; \
	export DATABASE_URL='$(BENCH_DATABASE_URL)' REDIS_URL='$(BENCH_REDIS_URL)' \
	  DJANGO_SETTINGS_MODULE="$${DJANGO_SETTINGS_MODULE:-labelhub.settings}" \
	  PYTHONPATH="$(CURDIR)$${PYTHONPATH:+:$$PYTHONPATH}" BENCH_OUT="$(CURDIR)/bench/out"; \
	data="$$(mktemp -d -t labelhub-bench.XXXXXX)"; trap 'rm -rf "$$data"' EXIT; \
	export LABELHUB_DATA_DIR="$$data"; \
	if [ -f manage.py ]; then $(PY) manage.py migrate --noinput; fi; \
	for f in "$${files[@]}"; do echo "==> bench $$f"; $(PY) "$$f" $(ARGS); done

load: ## bench/load.py: 50 annotators + 5 reviewers + an admin (locust, its own .venv-load) against PostgreSQL+Redis
	VENV=.venv-load bash scripts/setup.sh --no-system
	.venv-load/bin/python -c 'import locust' 2>/dev/null || .venv-load/bin/python -m pip install --disable-pip-version-check -q 'locust>=2.30'
	DATABASE_URL='$(BENCH_DATABASE_URL)' REDIS_URL='$(BENCH_REDIS_URL)' bash scripts/services.sh ensure-db
	mkdir -p bench/out
	export DATABASE_URL='$(BENCH_DATABASE_URL)' REDIS_URL='$(BENCH_REDIS_URL)' BENCH_OUT="$(CURDIR)/bench/out"; \
	data="$$(mktemp -d -t labelhub-bench.XXXXXX)"; trap 'rm -rf "$$data"' EXIT; \
	export LABELHUB_DATA_DIR="$$data"; \
	.venv-load/bin/python manage.py migrate --noinput; \
	.venv-load/bin/python bench/load.py $(ARGS)

compat: setup ## Label Studio's own tavern API tests against Label Studio 1.23.2 and LabelHub (report: .cache/compat/)
	bash scripts/compat/setup.sh
	.cache/compat-venv/bin/python scripts/compat/run.py $(ARGS)
	@$(call pytest_run,labelstudio,$(SQLITE_ENV),-m labelstudio tests/importers/test_lsmigrate_live.py); exit $$rc

clean: ## remove caches and build leftovers (keeps .venv, .cache, data/)
	find . -path ./.venv -prune -o -path ./.git -prune -o \
	  -type d \( -name __pycache__ -o -name .pytest_cache -o -name .ruff_cache \) -print0 \
	  | xargs -0 rm -rf
	find . -path ./.venv -prune -o -path ./.git -prune -o -name '*.py[co]' -print0 | xargs -0 rm -f
	rm -rf staticfiles bench/out build dist ./*.egg-info .ruff_cache

distclean: clean ## clean, plus .venv, .cache, the fetched editor and Chart.js (keeps data/)
	rm -rf $(VENV) .cache frontend/static/editor frontend/static/editor-ls frontend/static/vendor
