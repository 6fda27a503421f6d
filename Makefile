# Public entry points. Every target creates the venv with Python 3.13 on first use and
# installs what it needs from the lock files in requirements/, once per change:
#   demo   the base package only (msgspec): under a minute on a fresh clone, demo included
#          (dev: 2-12 min, every extra: 2 min more; measured on 2 busy cores, 1.5 GB)
#   check  the fast loop, with the dev extra: lint, types, unit + contract + service tests
#   test   everything CI runs, with every extra: all test tiers, the compiled wheel, the
#          arm64 wheel under qemu, the Rust baseline's tests
SHELL := /bin/bash
PYTHON_313 := $(shell tools/find-python.sh)
VENV := .venv
PY := $(VENV)/bin/python
# Editable installs are pure Python (setup.py): the compiled build is tested from its wheel.
PIP := HOTCORE_PURE=1 $(PY) -m pip --disable-pip-version-check
# cargo's build folder outlives the clone: CI runs on the same machine as the session
CARGO_TARGET_DIR ?= $(HOME)/.cache/hotcore/cargo-target
export CARGO_TARGET_DIR
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export JSII_RUNTIME_PACKAGE_CACHE_ROOT := $(CURDIR)/.cache/jsii

.PHONY: demo check test lint typecheck schema synth layer bench bench-quick rust-test rust-test-arm64 lock clean

# Installs come from the lock files in requirements/ (exact versions and hashes; `make lock`
# refreshes them). pip prints one line per package it collects; its full output goes to
# .venv/pip-<step>.log, named again if it fails.
define pip_install
	@set -o pipefail; $(PIP) install --progress-bar off $(1) 2>&1 | tee $(VENV)/pip-$(2).log \
	  | { grep --line-buffered -E '^(Collecting|Successfully installed|ERROR)' || true; } \
	  | sed -u -E 's/^(.{0,96}).*/  pip: \1/' \
	  || { echo "make: pip failed; its full output: $(VENV)/pip-$(2).log" >&2; exit 1; }
endef

$(PY):
	@test -n "$(PYTHON_313)" || { echo "error: Python 3.13 not found (see tools/find-python.sh)" >&2; exit 1; }
	@echo "make: creating $(VENV) with $(PYTHON_313)"
	@$(PYTHON_313) -m venv $(VENV)

# The base package: msgspec, and hotcore + hotcore_dev as an editable (pure) install.
$(VENV)/.base: pyproject.toml setup.py requirements/base.txt | $(PY)
	@echo "make: installing msgspec and setuptools from requirements/base.txt (about 10 s)"
	$(call pip_install,--require-hashes --no-deps -r requirements/base.txt,base)
	@echo "make: installing hotcore + hotcore_dev (editable, pure Python)"
	@$(PIP) install -q --no-build-isolation --no-deps -e .
	@touch $@

$(VENV)/.dev: $(VENV)/.base requirements/dev.txt
	@echo "make: installing the dev extra from requirements/dev.txt (pytest, ruff, mypy, moto, aws-cdk-lib...: 95 packages; 2 to 12 minutes, 12 measured on 2 busy cores)"
	$(call pip_install,--require-hashes --no-deps -r requirements/dev.txt,dev)
	@touch $@

$(VENV)/.all: $(VENV)/.dev requirements/all.txt
	@echo "make: installing every extra from requirements/all.txt (cdk-nag, cfn-lint, zig, matplotlib, Powertools...: about 2 minutes)"
	$(call pip_install,--require-hashes --no-deps -r requirements/all.txt,all)
	@touch $@

# Refresh the lock files from pyproject.toml's ranges (and requirements/editable-build.in):
# every extra together, then dev and base as subsets of it, so the three never disagree.
# Needs the network (PyPI); commit the result. UPGRADE=msgspec moves one package only.
LOCK_COMPILE = $(VENV)/bin/uv pip compile --universal --python-version 3.13 --generate-hashes \
	--quiet --custom-compile-command "make lock" $(if $(UPGRADE),--upgrade-package $(UPGRADE))
lock: | $(PY)
	@$(PIP) install -q "uv==0.13.8"
	@echo "make: resolving requirements/all.txt, dev.txt and base.txt"
	$(LOCK_COMPILE) pyproject.toml requirements/editable-build.in --extra dev --extra infra \
		--extra build --extra bench -o requirements/all.txt
	$(LOCK_COMPILE) pyproject.toml requirements/editable-build.in --extra dev \
		-c requirements/all.txt -o requirements/dev.txt
	$(LOCK_COMPILE) pyproject.toml requirements/editable-build.in \
		-c requirements/all.txt -o requirements/base.txt
	@echo "make: lock files written; review with git diff requirements/, then commit"

demo: $(VENV)/.base
	$(VENV)/bin/hotcore demo

LINTED := $(wildcard src tests handlers infra bench tools examples setup.py)

lint: $(VENV)/.dev
	$(VENV)/bin/ruff format --check $(LINTED)
	$(VENV)/bin/ruff check $(LINTED)
	$(VENV)/bin/lint-imports --no-cache

typecheck: $(VENV)/.dev
	$(VENV)/bin/mypy

# The fast loop: no compiled build, no emulator processes beyond moto, no synth, no chaos suite.
check: lint typecheck
	HOTCORE_BUILD=pure HOTCORE_EXAMPLES_SCALE=0.05 $(PY) -m pytest -q -m "not chaos" tests/unit tests/contract tests/service

# The whole suite: every tier on the pure (editable) build, the compiled wheel, the arm64
# wheel under qemu, the Rust baseline's own tests, and the infra synth checks. pytest gets
# CARGO_TARGET_DIR (exported above), so the tests find the Rust binaries cargo built.
# The compiled wheel changes hotcore's code, not the tooling: the dev, infra and packaging
# tiers run once, on the pure build; the differential tests compare both builds.
COMPILED_TIERS := tests/unit tests/contract tests/service tests/e2e tests/build/test_emulated.py \
	tests/build/test_layer.py::test_the_build_under_test_is_the_announced_one

test: $(VENV)/.all lint typecheck
	@echo "make: [1/4] pytest, every tier on the pure build (the infra tiers synthesize once: about 2 minutes of it)"
	HOTCORE_BUILD=pure $(PY) -m pytest -q
	@echo "make: [2/4] the tiers that run hotcore's code, again on the compiled x86_64 wheel (builds it first if needed: about 2 minutes)"
	$(PY) -m tools.layer test-compiled -q $(COMPILED_TIERS)
	@echo "make: [3/4] the emulated tests on the arm64 wheel under qemu (the first run makes the arm64 tree: a few minutes)"
	$(PY) -m tools.layer test-emulated -q
	@echo "make: [4/4] the Rust baseline's tests (a first build compiles its crates: up to 25 minutes on 2 cores)"
	$(MAKE) rust-test

rust-test:
	cargo test --manifest-path bench/rust/Cargo.toml --locked -q

# The same tests built for aarch64 (Debian's rustc-web, zig links) and run under qemu;
# not part of `test`: a cold build takes about 10 minutes here (bench/rust/README.md).
rust-test-arm64:
	tools/cross/rust-arm64.sh test -q

schema: $(VENV)/.base
	$(VENV)/bin/hotcore schema

# Offline: no account, no network. It refuses to synthesize without the compiled layer
# zip (functions would fail at import on Lambda) unless ALLOW_PURE_LAYER=1 says a
# pure-Python stand-in is fine (for template checks only). TRACING=active turns X-Ray
# active tracing on (as -c tracing=active does for cdk deploy).
synth: $(VENV)/.all
	@rm -rf infra/cdk.out
	@echo "make: [1/2] synthesizing the stacks with cdk-nag's AwsSolutions checks (about a minute)"
	@HOTCORE_ALLOW_PURE_LAYER=$(ALLOW_PURE_LAYER) \
	  $(if $(TRACING),CDK_CONTEXT_JSON='{"tracing": "$(TRACING)"}') $(PY) -m infra.app
	@echo "make: cdk-nag AwsSolutions: no unacknowledged finding"
	@echo "make: [2/2] cfn-lint on $$(ls infra/cdk.out/*.template.json | wc -l) templates"
	@$(VENV)/bin/cfn-lint --non-zero-exit-code error --ignore-checks W3005 -- infra/cdk.out/*.template.json
	@echo "make: cfn-lint: no errors; the cloud assembly is in infra/cdk.out"

# Both zips, without Docker; each step says what it runs and where its log is. A first
# build takes about 4 minutes (the arm64 tree, two compiled wheels), later ones only
# rebuild what changed.
layer: $(VENV)/.all
	@echo "make: building dist/hotcore-layer-arm64.zip and dist/hotcore-layer-x86_64.zip (first build about 4 minutes)"
	$(PY) -m tools.layer layer

# Benchmarks: the report, charts and JSON in bench/results/full (bench-quick: .../quick),
# ignored by git; UPDATE_REPORT=1 writes the committed bench/REPORT.md and bench/report/.
# A full run takes ~4 min once built; the first one also builds the layer (~4 min) and the
# Rust baseline (~25 min on 2 cores, log in bench/results/cargo-build.log).
bench: $(VENV)/.all
	$(PY) -m bench $(if $(UPDATE_REPORT),--update-report)

bench-quick: $(VENV)/.all
	$(PY) -m bench --quick

clean:
	rm -rf $(VENV) .hotcore build dist .cache infra/cdk.out
