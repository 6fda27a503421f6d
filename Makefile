# Public entry points. Each target creates the venv with Python 3.13 on first use
# and reinstalls only when the packaging files change.
SHELL := /bin/bash
PYTHON_313 := $(shell scripts/find-python.sh)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test lint typecheck schema clean venv

venv: $(STAMP)

$(STAMP): pyproject.toml setup.py
	@test -n "$(PYTHON_313)" || { echo "error: Python 3.13 not found (see scripts/find-python.sh)" >&2; exit 1; }
	@test -x $(PY) || $(PYTHON_313) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	@touch $@

demo: $(STAMP)
	$(VENV)/bin/hotcore demo

LINTED := $(wildcard src tests handlers infra bench setup.py)

test: $(STAMP)
	$(VENV)/bin/ruff format --check $(LINTED)
	$(VENV)/bin/ruff check $(LINTED)
	$(VENV)/bin/mypy
	$(PY) -m pytest -q

schema: $(STAMP)
	$(VENV)/bin/hotcore schema

clean:
	rm -rf $(VENV) .hotcore build dist
