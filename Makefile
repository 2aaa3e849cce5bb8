# msghub: two commands on a fresh machine.
#   make run    installs into .venv and runs msghub with an embedded PostgreSQL
#   make test   installs the test tools and runs the whole suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test lint check bench clean

$(BIN)/python:
	@scripts/bootstrap-venv "$(PYTHON)" "$(VENV)"

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e .
	@touch $@

$(VENV)/.test-installed: pyproject.toml $(VENV)/.installed
	$(BIN)/pip install --quiet -e ".[test]"
	@touch $@

run: $(VENV)/.installed
	$(BIN)/msghub run --demo

lint: $(VENV)/.test-installed
	$(BIN)/ruff check msghub tests
	$(BIN)/mypy

test: $(VENV)/.test-installed
	scripts/install-test-deps
	$(BIN)/ruff check msghub tests
	$(BIN)/mypy
	$(BIN)/pytest

# benchmarks write real rows: they get a database of their own
bench: $(VENV)/.installed
	MSGHUB_DATA_DIR=./var/bench $(BIN)/msghub bench outbox --messages 20000
	MSGHUB_DATA_DIR=./var/bench $(BIN)/msghub bench outbox --messages 5000 --rate 500
	MSGHUB_DATA_DIR=./var/bench $(BIN)/msghub bench modem --messages 1000 --devices 4
	MSGHUB_DATA_DIR=./var/bench $(BIN)/msghub bench kannel --messages 20000

clean:
	rm -rf $(VENV) build dist *.egg-info
