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

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

.PHONY: install
install: $(STAMP) ## create .venv and install idsvc with its dev tools

.PHONY: dev
dev: $(STAMP) ## run idsvc locally: embedded PostgreSQL, demo identity provider, http://127.0.0.1:8000
	$(BIN)/idsvc dev

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

.PHONY: test
test: $(STAMP) $(CHROMIUM) $(NGINX) $(APACHE_OIDC) ## run the whole test suite (uses IDSVC_TEST_DATABASE_URL or an embedded PostgreSQL)
	IDSVC_CHROMIUM=$(CHROMIUM) $(BIN)/python -m pytest

.PHONY: lint
lint: $(STAMP) ## ruff, formatting, mypy --strict, import contracts, generated files current
	$(BIN)/ruff check idsvc tests bench
	$(BIN)/ruff format --check idsvc tests bench
	$(BIN)/mypy --strict idsvc
	$(BIN)/lint-imports
	$(BIN)/idsvc schemas --check

.PHONY: schemas
schemas: $(STAMP) ## regenerate schemas/*.json from the code
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
