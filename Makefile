# `make plan` and `make test` create .venv and install what they need on first use.
PYTHON ?= python3
STACK ?= dev
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed

.PHONY: plan docs bench test test-min lint types unit format clean

plan: $(INSTALLED)
	$(BIN)/python -m oidc plan --stack $(STACK)

# Regenerate README.md's config reference and outputs tables, and the argument types of oidc/package.py,
# from Pulumi.yaml and oidc/docs.py.
docs: $(INSTALLED)
	$(BIN)/python -m oidc.docs

# Wall time and peak memory of evaluating the program offline for 10, 100 and 1,000 entries.
bench: $(INSTALLED)
	$(BIN)/python -m bench.plan_bench

test: lint types unit

lint: $(INSTALLED)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

types: $(INSTALLED)
	$(BIN)/mypy

unit: $(INSTALLED)
	$(BIN)/python -m pytest

# The suite against the lowest versions requirements.txt allows (requirements-min.txt), in .venv-min.
test-min: .venv-min/.installed
	.venv-min/bin/python -m pytest -p no:cacheprovider

.venv-min/.installed: requirements-min.txt requirements-dev.txt
	test -x .venv-min/bin/python || $(PYTHON) -m venv .venv-min
	.venv-min/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-min.txt -r requirements-dev.txt
	touch $@

format: $(INSTALLED)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

$(INSTALLED): requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt -r requirements-dev.txt
	touch $@

clean:
	rm -rf $(VENV) .venv-min .mypy_cache .ruff_cache .pytest_cache .hypothesis
