# Dispatcher Recognition Tracker: the two commands a newcomer needs are `make run` and `make test`.
# GNU make. Everything runs inside .venv, created once with Python 3.12 or newer; requirements are
# (re)installed only when requirements*.txt change (stamp files inside .venv), so a second run is quick.

SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV := .venv
VENV_PY := $(VENV)/bin/python
RUNTIME_STAMP := $(VENV)/.requirements.stamp
DEV_STAMP := $(VENV)/.requirements-dev.stamp
PIP := $(VENV_PY) -m pip --disable-pip-version-check

# Tried in this order; the first that runs and is >= 3.12 builds .venv. Override with `make PYTHON=/path/to/python3.12 ...`.
PYTHON_CANDIDATES := python3.12 python3.13 python3.14 python3
# Only for tests: settings refuse to start without a key when DEBUG is off.
TEST_SECRET_KEY := test-only-secret-key-not-for-production
# `make serve` without DJANGO_SECRET_KEY: a key generated once for this checkout (inside .venv, never committed).
SERVE_SECRET := $(VENV)/.serve-secret
ARGS ?=
FILE ?=
# pytest-xdist workers for `make test`: one per core by default; TEST_WORKERS=0 runs in one process.
TEST_WORKERS ?= auto
# `make run PORT=8001` when 8000 is taken.
PORT ?= 8000

.PHONY: help venv deps dev-deps load-data setup run serve test lint superuser clean bench backup restore load fault worker

help:
	@echo "make run        set up (venv, migrate, load geography and the starter dataset) and serve on http://127.0.0.1:8000 (PORT=8001 to move it)"
	@echo "make setup      everything 'make run' does except serving"
	@echo "make serve      production-like: DEBUG off, collectstatic, same data as setup, gunicorn on http://127.0.0.1:8000"
	@echo "make worker     run the background task worker (follow-by-email sends) beside make run or make serve"
	@echo "make test       run the test suite (pytest); extra arguments: make test ARGS=\"-k foo\""
	@echo "make lint       ruff check"
	@echo "make superuser  create a staff account for the admin (/admin/)"
	@echo "make clean      remove .venv and caches (db.sqlite3 is kept)"
	@echo "make bench      performance benchmark on PostgreSQL with 100k demo records (BENCH_DATABASE_URL; see benchmarks/README.md)"
	@echo "make backup     pg_dump -Fc of the PostgreSQL database in DATABASE_URL to backups/tracker-YYYYMMDD-HHMMSS.dump"
	@echo "make restore    FILE=backups/....dump: restore a backup into the EMPTY PostgreSQL database in DATABASE_URL"
	@echo "make load       load test: gunicorn + PostgreSQL + Redis under wrk, a mix of public URLs (ARGS=\"--seconds 10\")"
	@echo "make fault      fault run: gunicorn against a hung PostgreSQL, 16 connections; p99 of the 503s (ARGS=\"--seconds 10\")"

# The virtualenv itself: created once. Pyenv shims (e.g. python3.12 for a version that is not installed)
# exist but fail when run, so each candidate is actually run, not just looked up.
$(VENV_PY):
	@set -e; \
	if [ -n "$(PYTHON)" ]; then candidates="$(PYTHON)"; else candidates="$(PYTHON_CANDIDATES)"; fi; \
	found=""; \
	for candidate in $$candidates; do \
	  if command -v "$$candidate" >/dev/null 2>&1 \
	     && "$$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 12))' >/dev/null 2>&1; then \
	    found="$$candidate"; break; \
	  fi; \
	done; \
	if [ -z "$$found" ]; then \
	  echo "Python 3.12 or newer is required (tried: $$candidates); install it (e.g. pyenv install 3.12) and run make again." >&2; \
	  exit 1; \
	fi; \
	echo "Creating $(VENV) with $$found ($$("$$found" -c 'import sys; print(sys.version.split()[0])'))"; \
	"$$found" -m venv $(VENV) || { rm -rf $(VENV); echo "Could not create $(VENV) with $$found (is its venv module installed?)" >&2; exit 1; }

$(RUNTIME_STAMP): requirements.txt | $(VENV_PY)
	$(PIP) install --quiet -r requirements.txt
	@touch $@

$(DEV_STAMP): requirements-dev.txt requirements.txt | $(VENV_PY)
	$(PIP) install --quiet -r requirements-dev.txt
	@touch $@ $(RUNTIME_STAMP)

venv: $(VENV_PY)
deps: $(RUNTIME_STAMP)
dev-deps: $(DEV_STAMP)

# The database steps of `make setup` and `make serve` (which runs them with DEBUG off), idempotent: reference
# data (geography, population, the Congresses), then the starter dataset and its actions, only into a database
# without resolutions: running setup again never undoes staff work.
load-data: $(RUNTIME_STAMP)
	$(VENV_PY) manage.py migrate --noinput
	$(VENV_PY) manage.py load_geography
	$(VENV_PY) manage.py load_population
	$(VENV_PY) manage.py load_congresses
	$(VENV_PY) manage.py load_starter_dataset

# Local development: DEBUG on (no secret key needed), SQLite unless DATABASE_URL says otherwise.
setup: export DJANGO_DEBUG := 1
setup: load-data

run: export DJANGO_DEBUG := 1
run: setup
	$(VENV_PY) manage.py runserver 127.0.0.1:$(PORT)

# The task worker (django-tasks-db): sends what `make run` or `make serve` queue (follow by email). Run it in a
# second terminal; with DEBUG on (as here) mail is printed to this terminal unless EMAIL_HOST is set.
worker: export DJANGO_DEBUG := $(if $(DJANGO_SECRET_KEY),$(DJANGO_DEBUG),1)
worker: $(RUNTIME_STAMP)
	$(VENV_PY) manage.py migrate --noinput
	$(VENV_PY) manage.py db_worker

# Production-like, on http://127.0.0.1:8000: DEBUG off (so secure cookies, HSTS, the strict CSP), hashed and
# compressed static files served by whitenoise, gunicorn with gunicorn.conf.py. DATABASE_URL and REDIS_URL
# pass through (SQLite and local memory without them). DJANGO_SECRET_KEY from the environment, else SERVE_SECRET.
serve: $(RUNTIME_STAMP)
	@set -eu; \
	if [ -z "$${DJANGO_SECRET_KEY:-}" ]; then \
	  if [ ! -s "$(SERVE_SECRET)" ]; then \
	    echo "DJANGO_SECRET_KEY is not set: generating a key for local runs only, in $(SERVE_SECRET)"; \
	    (umask 077 && $(VENV_PY) -c 'import secrets; print(secrets.token_urlsafe(64))' > "$(SERVE_SECRET)"); \
	  fi; \
	  DJANGO_SECRET_KEY="$$(cat "$(SERVE_SECRET)")"; \
	fi; \
	export DJANGO_SECRET_KEY DJANGO_DEBUG=0 DJANGO_ALLOWED_HOSTS=127.0.0.1,localhost DJANGO_STATIC_MANIFEST=1; \
	echo "collectstatic --noinput (hashed, compressed files in staticfiles/)"; \
	$(VENV_PY) manage.py collectstatic --noinput -v0; \
	$(MAKE) --no-print-directory load-data; \
	echo "Serving on http://127.0.0.1:8000 with gunicorn (DEBUG off); Ctrl-C stops it."; \
	exec $(VENV)/bin/gunicorn -c gunicorn.conf.py config.wsgi

# DATABASE_URL passes through from the caller (PostgreSQL); without it the tests use SQLite.
# DJANGO_ALLOW_ASYNC_UNSAFE: the Playwright sync API runs an event loop in the test thread, and
# pytest-django's live_server fixtures then touch the ORM from that thread.
test: export DJANGO_SECRET_KEY := $(TEST_SECRET_KEY)
test: export DJANGO_ALLOW_ASYNC_UNSAFE := true
test: $(DEV_STAMP)
	$(VENV)/bin/pytest -n $(TEST_WORKERS) $(ARGS)

lint: $(DEV_STAMP)
	$(VENV)/bin/ruff check .

superuser: export DJANGO_DEBUG := 1
superuser: $(RUNTIME_STAMP)
	$(VENV_PY) manage.py migrate --noinput
	$(VENV_PY) manage.py createsuperuser

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis test-results staticfiles
	find . -name __pycache__ -type d -prune -not -path './.git/*' -exec rm -rf {} +

# Performance benchmark (benchmarks/README.md): PostgreSQL database BENCH_DATABASE_URL (default
# postgres://postgres@127.0.0.1:5432/tracker_bench, created if missing), 100k demo resolutions.
# Prints the figures against their targets and always exits 0 unless the benchmark itself fails.
bench: $(RUNTIME_STAMP)
	$(VENV_PY) benchmarks/run.py $(ARGS)

# Backups (docs/deploy.md): PostgreSQL only, the database in DATABASE_URL. The settings need a secret key
# or DEBUG; neither matters to pg_dump, so without a key these run with DEBUG on.
backup restore: export DJANGO_DEBUG := $(if $(DJANGO_SECRET_KEY),$(DJANGO_DEBUG),1)
backup: $(RUNTIME_STAMP)
	$(VENV_PY) manage.py backup_database

restore: $(RUNTIME_STAMP)
	@if [ -z "$(FILE)" ]; then \
	  echo "Usage: make restore FILE=backups/tracker-YYYYMMDD-HHMMSS.dump (into the empty database in DATABASE_URL)" >&2; \
	  exit 2; \
	fi
	$(VENV_PY) manage.py restore_database "$(FILE)"

# Load test (benchmarks/load.py): gunicorn with 2 workers on PostgreSQL (LOAD_DATABASE_URL, default
# tracker_load, created and loaded with the starter dataset if needed) and Redis (LOAD_REDIS_URL, default
# redis://127.0.0.1:6379/2), wrk over a mix of public URLs; exits non-zero on any error answer.
load: $(RUNTIME_STAMP)
	$(VENV_PY) benchmarks/load.py $(ARGS)

# Fault run (benchmarks/fault.py): gunicorn with 2 workers pointed at a "PostgreSQL" that accepts connections
# and never answers (a listener the script starts on 127.0.0.1); 16 connections for 20 s; prints the p50, p99
# and max of the 503s and exits non-zero on any other answer. Needs no database, Redis or wrk.
fault: $(RUNTIME_STAMP)
	$(VENV_PY) benchmarks/fault.py $(ARGS)
