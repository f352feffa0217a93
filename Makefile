# PeerHub. `make run` serves the demo; `make test` runs every check.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test check lint typecheck jscheck audit lock pytest coverage pytest-rest browser bench clean messages translations

# Installed from the development lock (hash-checked), then PeerHub itself without
# resolving anything: what is tested is exactly what the locks pin (README.md, "Testing").
$(BIN)/peerhub: pyproject.toml requirements-dev.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --require-hashes -r requirements-dev.lock
	$(BIN)/pip install --quiet --no-deps -e .
	$(MAKE) --no-print-directory translations
	@touch $@

## Serve PeerHub with the demo data on the embedded SQLite database.
run: $(BIN)/peerhub
	$(BIN)/peerhub demo
	$(BIN)/peerhub serve --host $(HOST) --port $(PORT)

## Every check: lint, types (Python and the browser's scripts), known vulnerabilities,
## tests on SQLite and PostgreSQL, browser tests.
test: lint typecheck jscheck audit pytest

## The quick loop while working: lint, types and every test but the browser ones
## (no Chromium, no network), on both databases. `make test` before you push.
check: lint typecheck jscheck $(BIN)/peerhub
	$(BIN)/pytest -n $(JOBS) -m "not browser"

lint: $(BIN)/peerhub
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(BIN)/peerhub
	$(BIN)/mypy

## The browser's scripts (peerhub/static/js) type-checked against their JSDoc by
## TypeScript's tsc, strict, with nothing emitted: the browser loads the same files
## (docs/architecture.md, "Type-checking the browser's scripts"). TypeScript is the one
## dev dependency in package.json, installed from package-lock.json when that changes.
node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund --silent

jscheck: node_modules/.package-lock.json
	node_modules/.bin/tsc -p tsconfig.json

## pip-audit of what is installed: requirements-dev.lock (a superset of requirements.lock,
## which the image installs), after checking the environment is exactly that lock.
## Skips with one line saying so ONLY when no vulnerability service can be reached
## (PEERHUB_AUDIT_REQUIRED=1: fail instead); see docs/security.md, "Dependency audit".
audit: $(BIN)/peerhub
	$(BIN)/python tools/audit.py requirements-dev.lock

## Compile both locks from pyproject.toml (after changing a dependency): the runtime lock
## (the image) and the development lock (make, CI), with hashes, for this Python.
UV_COMPILE := $(BIN)/uv pip compile pyproject.toml --quiet --generate-hashes --no-header \
	--python $(BIN)/python --annotation-style line
## Pins already in a lock are kept where they still fit (`make lock UV_FLAGS=--upgrade`
## moves everything to the newest releases); the runtime lock is constrained by the
## development lock, so the two never disagree.
lock: $(BIN)/peerhub
	$(UV_COMPILE) $(UV_FLAGS) --extra dev -o requirements-dev.lock
	$(UV_COMPILE) -c requirements-dev.lock -o requirements.lock
	@sed -i '1i # Runtime dependencies, compiled by `make lock` (uv pip compile); installed by the Dockerfile.' requirements.lock
	@sed -i '1i # Runtime and development dependencies, compiled by `make lock` (uv pip compile); installed by make and CI.' requirements-dev.lock

## pytest runs on every core through pytest-xdist (`make test JOBS=1`: one process).
## Every test runs once, in two parts that together are the whole suite:
## - `make coverage`: the tests that need no database and the SQLite copy of every
##   database test, except the browser ones, under coverage (branch, through greenlets,
##   threads and the servers the tests start; pyproject.toml), failing under
##   COVERAGE_MIN percent. Measuring costs about twice the time, so it measures the
##   half that reaches the code: the rest adds the PostgreSQL dialect's few branches.
## - `make pytest-rest`: the PostgreSQL copy of every database test, and the browser
##   tests on both databases, without coverage.
JOBS ?= auto
COVERAGE_MIN ?= 93
pytest: coverage pytest-rest

coverage: $(BIN)/peerhub
	rm -rf .coverage-data
	$(BIN)/coverage run -m pytest -n $(JOBS) -m "not browser and not on_postgres"
	$(BIN)/coverage combine --quiet
	@echo "branch coverage of peerhub/, percent (fails under $(COVERAGE_MIN)):"
	@$(BIN)/coverage report --format=total --fail-under=$(COVERAGE_MIN)

pytest-rest: $(BIN)/peerhub
	$(BIN)/pytest -n $(JOBS) -m "browser or on_postgres"

browser: $(BIN)/peerhub
	$(BIN)/pytest -n $(JOBS) -m browser

## Translations (docs/translating.md). `make messages` extracts every string into the
## templates (peerhub/locale/*.pot) and merges them into each language's PO files;
## `make translations` compiles the PO files (also done at install). A language
## without compiled files is compiled in memory when PeerHub starts.
LOCALES := peerhub/locale
KEYWORDS := -k _ -k gettext -k ngettext:1,2 -k pgettext:1c,2 -k lazy_gettext -k N_
messages: $(BIN)/peerhub
	$(BIN)/pybabel -q extract -F babel.cfg $(KEYWORDS) --no-location --sort-output \
		--project PeerHub --copyright-holder "PeerHub contributors" \
		--msgid-bugs-address "https://github.com/peerhub/peerhub/issues" \
		-o $(LOCALES)/messages.pot .
	$(BIN)/pybabel -q extract -F babel-js.cfg -k _ -k ngettext:1,2 --no-location --sort-output \
		--project PeerHub --copyright-holder "PeerHub contributors" \
		-o $(LOCALES)/js.pot .
	$(BIN)/pybabel -q update -i $(LOCALES)/messages.pot -d $(LOCALES) -D messages --ignore-obsolete
	$(BIN)/pybabel -q update -i $(LOCALES)/js.pot -d $(LOCALES) -D js --ignore-obsolete

translations:
	$(BIN)/pybabel -q compile -d $(LOCALES) -D messages
	$(BIN)/pybabel -q compile -d $(LOCALES) -D js

## Benchmarks (results go to docs/performance.md); the directory one needs PostgreSQL.
bench: $(BIN)/peerhub
	$(BIN)/python bench/bench_matching.py
	$(BIN)/python bench/bench_directory.py --groups 50000 --requests 400 --baseline-requests 25 --rounds 3

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache node_modules .coverage-data htmlcov
