# Public entry points. Each target creates the venv with Python 3.13 on first use
# and reinstalls only when the packaging files change.
SHELL := /bin/bash
PYTHON_313 := $(shell scripts/find-python.sh)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
EXTRAS := dev,layer,infra,bench
# cargo's build folder outlives the clone: CI runs on the same machine as the session
CARGO_TARGET_DIR ?= $(HOME)/.cache/hotcore/cargo-target
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export JSII_RUNTIME_PACKAGE_CACHE_ROOT := $(CURDIR)/.cache/jsii

.PHONY: demo test lint typecheck schema synth layer bench bench-quick rust-test clean venv

venv: $(STAMP)

$(STAMP): pyproject.toml setup.py
	@test -n "$(PYTHON_313)" || { echo "error: Python 3.13 not found (see scripts/find-python.sh)" >&2; exit 1; }
	@test -x $(PY) || $(PYTHON_313) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[$(EXTRAS)]'
	@touch $@

demo: $(STAMP)
	$(VENV)/bin/hotcore demo

LINTED := $(wildcard src tests handlers infra bench setup.py)

lint: $(STAMP)
	$(VENV)/bin/ruff format --check $(LINTED)
	$(VENV)/bin/ruff check $(LINTED)

typecheck: $(STAMP)
	$(VENV)/bin/mypy

# The whole suite: the pure (editable) build, the compiled wheel, the arm64 wheel under
# qemu, the Rust baseline's own tests, and the infra synth checks (inside pytest).
test: lint typecheck
	HOTCORE_BUILD=pure $(PY) -m pytest -q
	$(PY) -m hotcore.layer test-compiled -q
	$(PY) -m hotcore.layer test-emulated -q
	$(MAKE) rust-test

rust-test:
	CARGO_TARGET_DIR="$(CARGO_TARGET_DIR)" cargo test --manifest-path bench/rust/Cargo.toml --locked -q

schema: $(STAMP)
	$(VENV)/bin/hotcore schema

synth: $(STAMP)
	rm -rf infra/cdk.out
	$(PY) -m infra.app
	$(VENV)/bin/cfn-lint --non-zero-exit-code error --ignore-checks W3005 -- infra/cdk.out/*.template.json

layer: $(STAMP)
	$(PY) -m hotcore.layer layer

# Benchmarks: bench/REPORT.md, charts and JSON (a few minutes); bench-quick writes to
# bench/results/quick (ignored by git) in under a minute.
bench: $(STAMP)
	CARGO_TARGET_DIR="$(CARGO_TARGET_DIR)" $(VENV)/bin/hotcore bench

bench-quick: $(STAMP)
	CARGO_TARGET_DIR="$(CARGO_TARGET_DIR)" $(VENV)/bin/hotcore bench --quick

clean:
	rm -rf $(VENV) .hotcore build dist .cache infra/cdk.out
