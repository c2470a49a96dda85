# idsvc: the README's two commands are `make dev` and `make test`.
# Both create .venv on first use and install what they need into it.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.DEFAULT_GOAL := help

.PHONY: help
help: ## list the targets
	@grep -E '^[a-z][a-z-]*:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "} {printf "  make %-10s %s\n", $$1, $$2}'

# Everything comes from the lock file, with hashes: a fresh machine gets exactly the versions
# CI ran with (a newer msgspec once changed a generated schema and broke CI on a new machine).
# --no-deps on the project itself: its dependencies are all in the lock already.
$(STAMP): requirements-dev.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --require-hashes --no-deps -r requirements-dev.txt
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $(STAMP)

.PHONY: install
install: $(STAMP) ## create .venv and install idsvc with its dev tools

# The lock files are made by uv (pinned here) from pyproject.toml's ranges; `make lock` picks the
# newest releases inside them. requirements.txt (service only) is constrained by the dev lock,
# so the image and the test run use the same versions.
UV_VERSION := 0.13.9
LOCK_FLAGS := --universal --python-version 3.11 --generate-hashes --quiet

.PHONY: lock
lock: ## refresh requirements*.txt (the lock files) from pyproject.toml, then reinstall
	$(PYTHON) -m venv $(VENV)-lock
	$(VENV)-lock/bin/python -m pip install --quiet uv==$(UV_VERSION)
	$(VENV)-lock/bin/uv pip compile pyproject.toml requirements-build.in --extra dev $(LOCK_FLAGS) --upgrade -o requirements-dev.txt
	$(VENV)-lock/bin/uv pip compile pyproject.toml requirements-build.in $(LOCK_FLAGS) --upgrade -c requirements-dev.txt -o requirements.txt
	rm -rf $(VENV)-lock $(STAMP)
	$(MAKE) install

.PHONY: dev
PORT ?= 8000
dev: $(STAMP) ## run idsvc locally: embedded PostgreSQL, demo identity provider, http://127.0.0.1:$(PORT) (make dev PORT=8001 if 8000 is taken)
	$(BIN)/idsvc dev --port $(PORT)

# Browser tests drive Debian's chromium (Playwright never downloads a browser here).
CHROMIUM ?= /usr/bin/chromium
$(CHROMIUM):
	@command -v apt-get >/dev/null || { echo "install Chromium and set CHROMIUM=/path/to/it"; exit 1; }
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium

# Gateway tests run a real NGINX (Debian's, with the auth_request module).
NGINX ?= /usr/sbin/nginx
$(NGINX):
	@command -v apt-get >/dev/null || { echo "install nginx and set NGINX=/path/to/nginx"; exit 1; }
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nginx

# ...and a real Apache with mod_auth_openidc, validating tokens itself.
APACHE_OIDC ?= /usr/lib/apache2/modules/mod_auth_openidc.so
$(APACHE_OIDC):
	@command -v apt-get >/dev/null || { echo "install apache2 and mod_auth_openidc"; exit 1; }
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends apache2 libapache2-mod-auth-openidc

# ...a real Caddy, forward_auth to the sidecar...
CADDY ?= /usr/bin/caddy
$(CADDY):
	@command -v apt-get >/dev/null || { echo "install caddy and set CADDY=/path/to/caddy"; exit 1; }
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends caddy

# ...and a real HAProxy, validating tokens itself with jwt_verify.
HAPROXY ?= /usr/sbin/haproxy
$(HAPROXY):
	@command -v apt-get >/dev/null || { echo "install haproxy and set HAPROXY=/path/to/haproxy"; exit 1; }
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends haproxy

# Both test targets run on pytest-xdist workers (tests/support/pg.py names each worker's
# databases by its PID). Workers overlap the time tests spend waiting on servers,
# subprocesses and browsers. On the 2-core machine (docs/performance.md) 3 workers were
# within 5 % of 2 and 4 no faster; 2 keeps the timed tests (revocations within the ttl,
# recovery from faults) from sharing the cores three ways. TEST_WORKERS=0 runs serially.
TEST_WORKERS ?= 2
# One test at a time to whichever worker is free (xdist's default deals out blocks of
# consecutive tests), and the slow tier first (tests/conftest.py): the long tests start at
# once on different workers and the short ones fill in behind them.
PYTEST_XDIST := -n $(TEST_WORKERS) --maxschedchunk 1

.PHONY: test
test: $(STAMP) $(CHROMIUM) $(NGINX) $(APACHE_OIDC) $(CADDY) $(HAPROXY) ## run the whole test suite (uses IDSVC_TEST_DATABASE_URL or an embedded PostgreSQL)
	IDSVC_CHROMIUM=$(CHROMIUM) $(BIN)/python -m pytest $(PYTEST_XDIST)

# The tests marked slow (fuzzing, chaos and faults, gateways, browsers, the long CLI and
# Hypothesis runs) need Chromium, NGINX, Apache, Caddy and HAProxy; the rest need none.
.PHONY: test-fast
test-fast: $(STAMP) ## all but the tests marked slow: the loop while you work (make test before you commit)
	$(BIN)/python -m pytest -m "not slow" $(PYTEST_XDIST)

.PHONY: lint
lint: $(STAMP) ## ruff, formatting, mypy --strict, import contracts, generated files current
	$(BIN)/ruff check idsvc tests bench
	$(BIN)/ruff format --check idsvc tests bench
	$(BIN)/mypy --strict idsvc
	$(BIN)/lint-imports
	$(BIN)/idsvc schemas --check

.PHONY: schemas
schemas: $(STAMP) ## regenerate schemas/*.json and docs/errors.md from the code
	$(BIN)/idsvc schemas

.PHONY: bench
bench: $(STAMP) ## run the benchmarks under bench/ (needs a PostgreSQL: IDSVC_TEST_DATABASE_URL or embedded)
	$(BIN)/python bench/audit.py
	$(BIN)/python bench/verify.py
	$(BIN)/python bench/issue.py
	if command -v wrk >/dev/null; then $(BIN)/python bench/gateway.py; else echo "bench/gateway.py skipped: needs wrk (apt-get install wrk)"; fi
	$(BIN)/python bench/screening.py
	$(BIN)/python bench/status_list.py
	$(BIN)/python bench/csv_import.py

.PHONY: clean
clean: ## remove the virtualenv and caches (keeps .idsvc data)
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
