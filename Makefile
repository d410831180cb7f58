# The two commands: `make run` (a demo on https://127.0.0.1:8443/) and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# make run: the portal over HTTPS on HTTPS_PORT; plain HTTP on PORT for CRL, OCSP and the CA
# certificates (everything else there redirects to HTTPS). VAR_DIR holds all its state.
PORT ?= 8000
HTTPS_PORT ?= 8443
VAR_DIR ?= $(CURDIR)/var
# Demo certificates live 30 days, inside the renewal window, so renewing can be tried at once.
CERT_DAYS ?= 30
DEV_ENV := PORTAL_MODE=development DEBUG=1 VAR_DIR=$(VAR_DIR) CA_CERT_VALIDITY_DAYS=$(CERT_DAYS) \
	PORTAL_URL=https://127.0.0.1:$(HTTPS_PORT) INSTALLER_SERVER_CA_FILE=$(VAR_DIR)/tls/root.pem

.PHONY: run test lint migrations unit integration browser faults messages bench clean

# Argon2 hashes every PIN and password. PyPI's wheel of its C core runs on any x86-64 CPU;
# built for this machine's CPU (AVX2, AVX-512) the same hash takes about half the time.
# The venv stays on the machine that built it. ARGON2_CFLAGS= keeps the portable wheel.
ARGON2_CFLAGS ?= -O3 -march=native

$(VENV)/.installed: pyproject.toml
	@echo "Python-omgeving in $(VENV) installeren (eerste keer enkele minuten) / installing the project into $(VENV)"
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@if [ -n "$(ARGON2_CFLAGS)" ]; then echo "Argon2 bouwen voor deze processor / building Argon2 for this CPU"; fi
	@if [ -n "$(ARGON2_CFLAGS)" ]; then \
		PYTHON=$(PY) deploy/build-argon2.sh "$(ARGON2_CFLAGS)" \
		|| echo "Argon2: building for this CPU failed; the portable wheel stays" >&2; \
	fi
	touch $@

messages: $(VENV)/.installed
	@PORTAL_MODE=development $(PY) manage.py compile_catalogues

# Migrate, CA, TLS certificate, demo data, then the portal and its signing worker until Ctrl-C
# (config/demo.py; the server is config/embedded_server.py).
run: messages
	@$(DEV_ENV) $(PY) -m config.demo --port $(PORT) --https-port $(HTTPS_PORT)

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	PORTAL_MODE=test $(VENV)/bin/mypy .
	$(VENV)/bin/lint-imports --no-cache

# The migrations match the models and apply to an empty database: in CI the run's own new
# PostgreSQL database (DATABASE_URL, which pytest leaves unused), elsewhere a scratch SQLite file.
migrations: $(VENV)/.installed
	PORTAL_MODE=test $(PY) manage.py makemigrations --check --dry-run
	scratch=$$(mktemp -d) && trap 'rm -rf "$$scratch"' EXIT && \
		PORTAL_MODE=test SQLITE_PATH="$$scratch/migrate.sqlite3" $(PY) manage.py migrate --no-input -v 1

# The four suites; tests/conftest.py puts every test in exactly one, `make test` runs them all.
# Two pytest-xdist processes (each with a Redis database of its own, tests/settings.py): on
# a 2-core machine the whole suite takes 238 s instead of 336 s, the unit suite 75 s
# instead of 148 s, as most tests wait on subprocesses, servers and sleeps rather than compute.
PYTEST_PROCESSES ?= 2
PYTEST := $(VENV)/bin/pytest -n $(PYTEST_PROCESSES)

unit integration browser faults: messages
	$(PYTEST) -m $@

test: messages lint migrations
	$(PYTEST)

# Needs DATABASE_URL (PostgreSQL) and REDIS_URL; writes bench/results.json and results.md.
bench: messages
	$(PY) -m bench

clean:
	rm -rf var staticfiles .pytest_cache .mypy_cache .ruff_cache
