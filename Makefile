# Two commands: `make run` serves the app, `make test` runs the whole suite.
# Both set up everything they need first (virtualenv, npm packages, migrations).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000
export XDG_RUNTIME_DIR := $(CURDIR)/.run
export FLASK_APP := app

# `make serve`: the production server (gunicorn; settings in designer/gunicorn_config.py).
.PHONY: run serve soak test test-fast test-slow mutate setup lint format bench clean

run: setup
	$(BIN)/flask db upgrade
	@echo ""
	@echo "  Data Model Designer: open http://$(HOST):$(PORT)/ (sign up at /signup)"
	@echo ""
	$(BIN)/flask run --host "$(HOST)" --port "$(PORT)" --with-threads --no-reload

serve: setup
	$(BIN)/flask db upgrade
	HOST="$(HOST)" PORT="$(PORT)" $(BIN)/gunicorn -c python:designer.gunicorn_config app:app

# The whole suite: unit and integration tests in TEST_WORKERS processes (pytest-xdist; each
# worker starts its own embedded PostgreSQL, and a test file stays on one worker), then the
# browser tests in one process, where their timings are not shared with another run.
TEST_WORKERS ?= 2
test: setup
	$(BIN)/pytest -n $(TEST_WORKERS) --dist loadfile -m "not e2e"
	$(BIN)/pytest -m e2e

# Long runs (about 15 minutes), not part of CI: locust's mixed load against make serve's
# gunicorn with one and with two app servers (behind nginx when installed), and the database
# restarting under that load. Prints p50/p95/p99 per action, errors and CPU by process group.
soak: setup $(VENV)/.soak-installed
	$(BIN)/python bench/soak.py

$(VENV)/.soak-installed: requirements-soak.txt requirements.txt
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-soak.txt
	touch $@

# Unit and integration tests only: no browser, no server processes.
test-fast: setup
	$(BIN)/pytest -m "not e2e and not slow"

# The whole suite with the property tests searching wide (1,000 examples each).
test-slow: setup
	HYPOTHESIS_PROFILE=slow $(BIN)/pytest

# Mutation testing of the domain modules (long; not part of CI). See [tool.mutmut] in
# pyproject.toml. Narrow it with MUTANTS, e.g. make mutate MUTANTS='designer.history.diff*'.
MUTANTS ?=
mutate: setup
	mkdir -p mutants && ln -sfn ../node_modules mutants/node_modules
	$(BIN)/mutmut run --max-children 2 $(MUTANTS)
	$(BIN)/mutmut results

setup: $(VENV)/.installed node_modules/.installed .run

$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

.run:
	mkdir -p -m 700 .run

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: setup
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: setup
	for script in bench/[!_]*.py; do $(BIN)/python $$script || exit 1; done

clean:
	rm -rf $(VENV) node_modules .run .pytest_tmp .pytest_cache .ruff_cache
