# `make plan` and `make test` create .venv and install what they need on first use.
# They need Python 3.11 or later: `python3`, or the interpreter given as PYTHON (make test PYTHON=python3.12).
PYTHON ?= python3
STACK ?= dev
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
NEEDED := 3.11

.PHONY: plan docs bench test test-min lint types unit format clean FORCE

# The interpreter, asked once: "<status> <version> <its real path>", status ok, old (before $(NEEDED)) or
# nopip (no ensurepip, so venv cannot give the virtualenv pip). Written for any Python, even 2.7.
PYTHON_PROBE := import sys; v = sys.version_info; print("%s %d.%d.%d %s" % ("old" if v < (3, 11) else "ok" if __import__("importlib.util").util.find_spec("ensurepip") else "nopip", v[0], v[1], v[2], __import__("os").path.realpath(sys.executable)))
PYTHON_FOUND := $(shell $(PYTHON) -c '$(PYTHON_PROBE)' 2>/dev/null)
PYTHON_STATUS := $(word 1,$(PYTHON_FOUND))
PYTHON_VERSION := $(word 2,$(PYTHON_FOUND))
# What a virtualenv records of the interpreter that built it (version and path): another one rebuilds it.
PYTHON_BUILD := $(wordlist 2,$(words $(PYTHON_FOUND)),$(PYTHON_FOUND))
PASS_ANOTHER := pass another interpreter, e.g. make $(or $(MAKECMDGOALS),plan) PYTHON=python3.12 (a name or a path)
# Where PYTHON is a name, the interpreter it runs.
PYTHON_AT := $(if $(filter $(PYTHON),$(lastword $(PYTHON_FOUND))),, at $(lastword $(PYTHON_FOUND)))

# Every target but clean needs the interpreter: say at once, in one line, why it will not do.
ifneq ($(filter-out clean,$(or $(MAKECMDGOALS),plan)),)
ifeq ($(PYTHON_STATUS),)
$(error $(PYTHON) cannot be run as Python: this project needs Python $(NEEDED) or later; install it, or $(PASS_ANOTHER))
else ifeq ($(PYTHON_STATUS),old)
$(error $(PYTHON) is Python $(PYTHON_VERSION)$(PYTHON_AT): this project needs Python $(NEEDED) or later; $(PASS_ANOTHER))
else ifeq ($(PYTHON_STATUS),nopip)
$(error $(PYTHON) is Python $(PYTHON_VERSION)$(PYTHON_AT) without ensurepip, so it cannot create a virtualenv with pip: install python$(basename $(PYTHON_VERSION))-venv (Debian, Ubuntu), or $(PASS_ANOTHER))
endif
endif

plan: $(INSTALLED)
	$(BIN)/python -m oidc plan --stack $(STACK)

# Regenerate the config reference and outputs tables of docs/configuration.md, the config declarations of
# Pulumi.yaml and the argument types of oidc/package.py from the keys' declarations (oidc/settings/models.py).
docs: $(INSTALLED)
	$(BIN)/python -m oidc.cli.docs

# Wall time and peak memory of evaluating the program offline for 10, 100 and 1,000 entries.
bench: $(INSTALLED)
	$(BIN)/python -m bench.plan_bench

test: lint types unit

lint: $(INSTALLED)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

types: $(INSTALLED)
	$(BIN)/mypy

# Spread over the machine's cores (at most 4): 1,517 tests took 48 to 65 s on 2 cores (measured 2026-12-04).
unit: $(INSTALLED)
	$(BIN)/python -m pytest --numprocesses=auto --maxprocesses=4

# The suite against the lowest versions requirements.txt allows (requirements-min.txt), in .venv-min.
test-min: .venv-min/.installed
	.venv-min/bin/python -m pytest -p no:cacheprovider --numprocesses=auto --maxprocesses=4

format: $(INSTALLED)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# <venv>/.python names the interpreter that built <venv>. When PYTHON is another one (or the file is
# missing: a virtualenv of unknown origin), the virtualenv is built again from scratch.
$(VENV)/.python .venv-min/.python:
	rm -rf $(@D)
	$(PYTHON) -m venv $(@D)
	echo '$(PYTHON_BUILD)' > $@

ifneq ($(shell cat $(VENV)/.python 2>/dev/null),$(PYTHON_BUILD))
$(VENV)/.python: FORCE
endif
ifneq ($(shell cat .venv-min/.python 2>/dev/null),$(PYTHON_BUILD))
.venv-min/.python: FORCE
endif

# pip installs uv into the virtualenv, and uv installs the requirements: 24 s instead of pip's 65 s on 2 cores
# (measured 2026-12-04, packages cached). --compile-bytecode writes the .pyc files pip would: without them every
# test process compiles what it imports (12 s more per `make test` where PYTHONDONTWRITEBYTECODE is set).
UV := uv>=0.9,<1
UV_INSTALL = $(@D)/bin/uv pip install --quiet --python $(@D)/bin/python --compile-bytecode

$(INSTALLED): requirements.txt requirements-dev.txt $(VENV)/.python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check '$(UV)'
	$(UV_INSTALL) -r requirements.txt -r requirements-dev.txt
	touch $@

.venv-min/.installed: requirements-min.txt requirements-dev.txt .venv-min/.python
	.venv-min/bin/python -m pip install --quiet --disable-pip-version-check '$(UV)'
	$(UV_INSTALL) -r requirements-min.txt -r requirements-dev.txt
	touch $@

clean:
	rm -rf $(VENV) .venv-min .mypy_cache .ruff_cache .pytest_cache .hypothesis

FORCE:
