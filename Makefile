# Quick start: `make run` serves the main job, `make test` runs the whole suite.
# Both create .venv when needed and install everything from this project's files.
# `make run` runs the code of this checkout (PYTHONPATH, as the tests do), so
# --reload serves your edits, and listens on loopback only (RUN_PORT).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
RUN_PORT ?= tcp:8080:interface=127.0.0.1

.PHONY: run test lint install install-test system-tools bench mutate clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

install: $(BIN)/python
	$(BIN)/python -m pip install --quiet .
	$(BIN)/python -m appserver.plugincache

install-test: $(BIN)/python system-tools
	$(BIN)/python -m pip install --quiet '.[test,postgres]'
	$(BIN)/python -m appserver.plugincache

# Command-line peers the integration tests talk to (redis-cli, redis-benchmark,
# redis-server) and the HTTP load generator of bench/, from Debian's packages.
system-tools:
	@command -v redis-cli >/dev/null && command -v redis-server >/dev/null && command -v wrk >/dev/null && command -v nc >/dev/null || \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-tools redis-server wrk netcat-openbsd >/dev/null; }

run: install
	PYTHONPATH=.:examples $(BIN)/twistd -n --pidfile= web-app --reload --port $(RUN_PORT)

test: install-test lint
	$(BIN)/pytest

# The linter and the type checker (settings in pyproject.toml); `make test`
# runs them first, so a finding fails it.
lint: install-test
	$(BIN)/ruff check appserver services twisted examples
	$(BIN)/mypy

bench: $(BIN)/python system-tools
	$(BIN)/python -m pip install --quiet '.[test,postgres,bench]'
	$(BIN)/python -m appserver.plugincache
	$(BIN)/python bench/run.py

# Mutation testing of the core modules against their unit tests, with a
# per-module report (docs/mutation.md). Slow: not part of `make test` or CI.
# MUTANTS narrows the run, e.g. make mutate MUTANTS='services.sessionserver.glob.*'
MUTANTS ?=

mutate: $(BIN)/python
	$(BIN)/python -m pip install --quiet '.[test,postgres,mutate]'
	$(BIN)/mutmut run --max-children 1 $(MUTANTS)
	$(BIN)/python -m tests.mutation

clean:
	rm -rf $(VENV) build *.egg-info
