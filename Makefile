# django-sessionguard developer tasks. `make help` lists them.
#
# Test legs (see README "Test legs"):
#   Django 5.2 (.venv)     : SQLite + local memory, always
#                            PostgreSQL + Redis, when both answer (or required)
#                            MariaDB/MySQL + Redis, when both answer (or required)
#   Django 6.x (.venv-dj6) : SQLite and PostgreSQL legs, when Python >= 3.12 is found
#                            (MariaDB on Django 6 by hand, to keep CI short:
#                            make test-mysql-leg LEG_VENV=.venv-dj6 LEG_NAME="Django 6")
# SESSIONGUARD_REQUIRE_SERVICES=1 makes every leg mandatory (CI): a missing
# service, interpreter or database driver fails the run instead of skipping a leg.

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := venv

VENV := .venv
VENV_DJ6 := .venv-dj6
PY := $(VENV)/bin/python
PY_DJ6 := $(VENV_DJ6)/bin/python
PYTEST_ARGS ?=
DEMO_ADDR ?= 127.0.0.1:8000

# Interpreter for .venv: python3.11 if present, else python3.
PYTHON ?= $(shell command -v python3.11 >/dev/null 2>&1 && python3.11 -c '' 2>/dev/null && echo python3.11 || echo python3)

# Interpreter for .venv-dj6 (Django 6 needs Python >= 3.12): python3.12/3.13 that
# actually runs, else a pyenv-installed 3.12/3.13 by absolute path (the same as
# `PYENV_VERSION=3.12.1 python`). Empty when none is found. Looked up once, lazily.
DJ6_PYTHON ?= $(eval DJ6_PYTHON := $(FIND_DJ6_PYTHON))$(DJ6_PYTHON)
FIND_DJ6_PYTHON = $(shell \
	for c in python3.12 python3.13; do \
	  if $$c -c 'import sys; assert sys.version_info >= (3, 12)' >/dev/null 2>&1; then \
	    command -v $$c; exit 0; fi; done; \
	if command -v pyenv >/dev/null 2>&1; then \
	  for v in $$(pyenv versions --bare 2>/dev/null | grep -E '^3\.1[23]\.[0-9]+$$'); do \
	    p="$$(pyenv prefix $$v)/bin/python"; [ -x "$$p" ] && { echo "$$p"; exit 0; }; done; \
	fi)

# $(call services_up,PORT): exits 0 when the server database (default port
# PORT) and Redis, as tests/settings.py would reach them, answer.
services_up = $(PY) -c 'import os, socket, urllib.parse as u; \
r = u.urlsplit(os.environ.get("SESSIONGUARD_TEST_REDIS_URL", "redis://127.0.0.1:6379/7")); \
[socket.create_connection(a, timeout=1).close() for a in ( \
(os.environ.get("SESSIONGUARD_TEST_DB_HOST", "127.0.0.1"), int(os.environ.get("SESSIONGUARD_TEST_DB_PORT", "$(1)"))), \
(r.hostname or "127.0.0.1", r.port or 6379))]' 2>/dev/null
SERVICES_UP = $(call services_up,5432)
MYSQL_UP = $(call services_up,3306)

REQUIRED = [ "$${SESSIONGUARD_REQUIRE_SERVICES:-}" = 1 ]

.PHONY: help venv venv-dj6 venv-mysql test test-leg test-mysql-leg lint docs demo demo-serve clean

help:
	@echo "make venv   create/refresh .venv (Python 3.11, Django 5.2, test, dev, redis and docs extras)"
	@echo "make test   run every test leg this machine can run (see Makefile header)"
	@echo "make venv-mysql  add mysqlclient to .venv for SESSIONGUARD_TEST_DB=mysql (needs libmariadb-dev, pkg-config)"
	@echo "make lint   ruff check, ruff format --check, mypy (strict) on the package"
	@echo "make docs   build the documentation site into site/ (MkDocs, warnings are errors)"
	@echo "make demo   seed the example project (alice, bob, carol, staff) and serve it on $(DEMO_ADDR)"
	@echo "make test-faults  only the fault tests (Redis killed, restarted, paused) on PostgreSQL + Redis"
	@echo "make bench  Django's session engines against ours on PostgreSQL + Redis; rewrites docs/benchmarks.md"
	@echo "make load   the example project under gunicorn, 10,000 ordinary and hostile requests (docs/load.md)"
	@echo "make screenshots  regenerate docs/screenshots/ with Playwright and Chromium"
	@echo "make clean  remove virtualenvs, caches and build output"

# -- virtualenvs (the stamp is rebuilt whenever pyproject.toml changes) ---------

venv: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[test,dev,redis,docs]"
	@touch $@

venv-dj6: $(VENV_DJ6)/.installed

$(VENV_DJ6)/.installed: pyproject.toml
	@test -n "$(DJ6_PYTHON)" || { echo "No Python >= 3.12 found for the Django 6 leg." >&2; exit 1; }
	@test -x $(PY_DJ6) || $(DJ6_PYTHON) -m venv $(VENV_DJ6)
	$(PY_DJ6) -m pip install --quiet --upgrade pip
	$(PY_DJ6) -m pip install --quiet -e ".[test,redis]" "django>=6.0,<7"
	@touch $@

# The MariaDB/MySQL legs' driver: mysqlclient (the "mysql" extra), in the
# virtualenv of the leg, installed only when such a leg runs. It has no Linux
# wheels: pip builds it against the MariaDB (or MySQL) client library, found
# with pkg-config (Debian: apt-get install libmariadb-dev pkg-config, which
# .ci/run does; macOS: brew install mariadb-connector-c pkg-config).
venv-mysql: $(VENV)/.installed-mysql

%/.installed-mysql: %/.installed
	$*/bin/python -m pip install --quiet -e ".[mysql]"
	@touch $@

# -- tests ----------------------------------------------------------------------

# The browser tests exercise pages, not storage: they run on the SQLite legs of
# each Django version and are deselected (reported) on the server-database legs.
SERVER_LEG_MARK ?= not browser

# One leg: make test-leg LEG_PY=.venv/bin/python DB=sqlite CACHE=locmem
# pytest's own exit status fails the recipe; that includes 5 (no tests collected).
test-leg:
	@echo
	@echo "=== $$($(LEG_PY) -c 'import django; print("Django", django.get_version())'): SESSIONGUARD_TEST_DB=$(DB) SESSIONGUARD_TEST_CACHE=$(CACHE) ==="
	SESSIONGUARD_TEST_DB=$(DB) SESSIONGUARD_TEST_CACHE=$(CACHE) $(LEG_PY) -m pytest $(if $(MARK),-m "$(MARK)") $(PYTEST_ARGS)

# The MariaDB/MySQL + Redis leg of one virtualenv:
#   make test-mysql-leg LEG_VENV=.venv LEG_NAME="Django 5.2"
# Run when 127.0.0.1:3306 and :6379 answer and mysqlclient installs; skipped
# (said so) otherwise, unless SESSIONGUARD_REQUIRE_SERVICES=1 (then it fails).
test-mysql-leg:
	@if ! $(REQUIRED) && ! $(MYSQL_UP); then \
	  echo; echo "=== SKIPPED $(LEG_NAME) MariaDB/MySQL + Redis leg: 127.0.0.1:3306 / :6379 do not answer ==="; \
	elif ! $(MAKE) --no-print-directory $(LEG_VENV)/.installed-mysql; then \
	  if $(REQUIRED); then \
	    echo "mysqlclient did not install: the MariaDB/MySQL leg needs the client library's headers and pkg-config (Debian: apt-get install libmariadb-dev pkg-config)." >&2; exit 1; \
	  fi; \
	  echo; echo "=== SKIPPED $(LEG_NAME) MariaDB/MySQL + Redis leg: mysqlclient did not install (Debian: apt-get install libmariadb-dev pkg-config) ==="; \
	else \
	  $(MAKE) --no-print-directory test-leg LEG_PY=$(LEG_VENV)/bin/python DB=mysql CACHE=redis MARK="$(SERVER_LEG_MARK)"; \
	fi

test: venv
	@$(MAKE) --no-print-directory test-leg LEG_PY=$(PY) DB=sqlite CACHE=locmem
	@if $(REQUIRED) || $(SERVICES_UP); then \
	  $(MAKE) --no-print-directory test-leg LEG_PY=$(PY) DB=postgres CACHE=redis MARK="$(SERVER_LEG_MARK)"; \
	else \
	  echo; echo "=== SKIPPED Django 5.2 PostgreSQL + Redis leg: 127.0.0.1:5432 / :6379 do not answer ==="; \
	fi
	@$(MAKE) --no-print-directory test-mysql-leg LEG_VENV=$(VENV) LEG_NAME="Django 5.2"
	@if $(REQUIRED) || [ -n "$(DJ6_PYTHON)" ]; then \
	  $(MAKE) --no-print-directory venv-dj6; \
	  $(MAKE) --no-print-directory test-leg LEG_PY=$(PY_DJ6) DB=sqlite CACHE=locmem; \
	  if $(REQUIRED) || $(SERVICES_UP); then \
	    $(MAKE) --no-print-directory test-leg LEG_PY=$(PY_DJ6) DB=postgres CACHE=redis MARK="$(SERVER_LEG_MARK)"; \
	  else \
	    echo; echo "=== SKIPPED Django 6 PostgreSQL + Redis leg: services do not answer ==="; \
	  fi; \
	else \
	  echo; echo "=== SKIPPED Django 6 legs: no Python >= 3.12 found ==="; \
	fi

# -- lint -----------------------------------------------------------------------

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

# -- docs -----------------------------------------------------------------------

# The site (mkdocs.yml) into site/, strict: a broken link, a missing anchor or a
# page left out of the nav fails the build. NO_MKDOCS_2_WARNING silences the
# banner mkdocs-material prints about MkDocs 2.0 (this project pins mkdocs<2).
docs: venv
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict

# -- demo -----------------------------------------------------------------------

# make demo: .venv (package only, see DEMO_STAMP), then demo-serve. demo-serve
# alone skips the venv step:
# tests/test_demo.py runs it with its own interpreter (PY=...), a temporary
# SQLite file (DEMO_DB=..., default example_project/db.sqlite3) and a free port.
# seed_demo starts over on every run (see example_project/README.md).
DEMO_DB ?=
DEMO_RUN = cd example_project && $(if $(DEMO_DB),DEMO_DB="$(abspath $(DEMO_DB))") $(abspath $(PY)) manage.py

# The demo needs the package and its runtime dependencies (Django, user-agents)
# only: no test, lint, docs or Redis tools. A .venv that `make venv` already
# filled has all of it; otherwise `make venv` (or `make test`) adds the rest later.
DEMO_STAMP := $(VENV)/.installed-demo

demo: $(DEMO_STAMP)
	@$(MAKE) --no-print-directory demo-serve

$(DEMO_STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@if [ $(VENV)/.installed -nt pyproject.toml ]; then \
	  echo "$(VENV) already has the full install (make venv)."; \
	else \
	  echo "$(PY) -m pip install --quiet -e ."; \
	  $(PY) -m pip install --quiet -e .; \
	fi
	@touch $@

demo-serve:
	$(DEMO_RUN) migrate --noinput
	$(DEMO_RUN) seed_demo --addr $(DEMO_ADDR)
	$(DEMO_RUN) runserver $(DEMO_ADDR)

# -- screenshots ----------------------------------------------------------------

# Regenerates docs/screenshots/devices-{desktop,phone}.png with Playwright and the
# system Chromium (SESSIONGUARD_CHROMIUM to choose one); fails if none is found.
.PHONY: screenshots
screenshots: venv
	SESSIONGUARD_REQUIRE_SERVICES=1 SESSIONGUARD_TEST_DB=sqlite SESSIONGUARD_TEST_CACHE=locmem \
	  $(PY) -m pytest tests/browser/screenshots.py -q -p no:cacheprovider

# -- faults ---------------------------------------------------------------------

# Only the fault tests (tests/faults/, marker "faults"), on the PostgreSQL +
# Redis leg: real redis-server processes killed, restarted and paused mid-request
# (docs/faults.md). `make test` runs them too, on every server-database leg.
.PHONY: test-faults
test-faults: venv
	SESSIONGUARD_TEST_DB=postgres SESSIONGUARD_TEST_CACHE=redis $(PY) -m pytest -m faults $(PYTEST_ARGS)

# -- clean ----------------------------------------------------------------------

clean:
	rm -rf $(VENV) $(VENV_DJ6) build dist *.egg-info .pytest_cache .mypy_cache .ruff_cache docs/_build site
	rm -f example_project/db.sqlite3
	find . -name __pycache__ -type d -not -path './.venv*' -prune -exec rm -rf {} +

# -- benchmark ------------------------------------------------------------------

# Django's session engines against ours, in one run, on PostgreSQL 127.0.0.1:5432
# (database sessionguard_bench) and Redis 127.0.0.1:6379 (dbs 9 and 10, flushed);
# prints the table and rewrites docs/benchmarks.md and docs/benchmarks.json
# (about 4 minutes). BENCH_ARGS=--quick: a smoke run; BENCH_ARGS=--counts-only:
# the exact counts alone, in seconds (tests/test_benchmark_counts.py runs it).
BENCH_ARGS ?=
.PHONY: bench
bench: venv
	$(PY) -m tests.benchmarks $(BENCH_ARGS)

# -- load/fuzz run --------------------------------------------------------------

# The example project under gunicorn (4 workers, 127.0.0.1, a free port) on
# PostgreSQL (database sessionguard_load, created and dropped) and Redis (db 11,
# this run's keys only), hit by 10,000 ordinary and hostile requests from 12
# client threads; fails on any 5xx, any request signed in without a live
# session, any effect on another user's sessions. See docs/load.md.
# LOAD_ARGS="--requests 50000 --users 100", or --quick for 500 requests.
LOAD_ARGS ?=
.PHONY: load
load: venv
	$(PY) -m tests.load $(LOAD_ARGS)
