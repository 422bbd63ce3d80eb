# Human entry points. Every target bootstraps the virtualenv it needs (Python 3.12, as Lambda).
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
ARCH ?= x86_64
export PATH := $(CURDIR)/$(BIN):$(PATH)
export SAM_CLI_TELEMETRY := 0

PYTHON312 ?= $(shell for p in python3.12 $$HOME/.pyenv/versions/3.12*/bin/python3.12 /root/.pyenv/versions/3.12*/bin/python3.12 /usr/bin/python3.12; do \
	"$$p" -c 'import sys; assert sys.version_info[:2] == (3, 12)' >/dev/null 2>&1 && { echo "$$p"; break; }; done)

.PHONY: help setup serve test check lint format typecheck unit validate scan lock build size bench load models events text-model clean

help:
	@echo "make serve   - local API on http://127.0.0.1:3000 serving the shipped models (AUTH=none: open)"
	@echo "make test    - lint, type-check and the whole test suite"
	@echo "make build   - sam build (ARCH=arm64 for Graviton)"
	@echo "make bench   - benchmarks, writes bench/out/report.{json,md}"
	@echo "make load    - loopback load test against lambdaserve serve, writes bench/out/load.md"

$(BIN)/.stamp: pyproject.toml layers/runtime/requirements.in
	@test -n "$(PYTHON312)" || { echo "Python 3.12 not found (Lambda's python3.12 runtime); install it or set PYTHON312=" >&2; exit 1; }
	test -x $(BIN)/python || "$(PYTHON312)" -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $@

setup: $(BIN)/.stamp

# Concurrent environments per function: a batch fan-out's Map runs on this many workers.
INSTANCES ?= 2

# AUTH=none: every route open (a quick demo); by default routes need what the template says.
serve: setup
	$(BIN)/lambdaserve serve --instances $(INSTANCES) $(if $(AUTH),--auth $(AUTH))

test: setup check unit

check: lint typecheck

lint: setup
	$(BIN)/ruff check src tests functions scripts bench
	$(BIN)/ruff format --check src tests functions scripts bench

format: setup
	$(BIN)/ruff format src tests functions scripts bench
	$(BIN)/ruff check --fix src tests functions scripts bench

typecheck: setup
	$(BIN)/mypy

unit: setup
	$(BIN)/python -m pytest

validate: setup
	sam validate --lint

# checkov pins boto3 1.35 (ours is 1.43), so it lives in its own virtualenv, pinned here.
# Any finding fails; the template suppresses what does not apply, each with its reason.
CHECKOV := checkov==3.3.30
SCAN_VENV := .venv-scan

$(SCAN_VENV)/.stamp: Makefile
	@test -n "$(PYTHON312)" || { echo "Python 3.12 not found; install it or set PYTHON312=" >&2; exit 1; }
	test -x $(SCAN_VENV)/bin/python || "$(PYTHON312)" -m venv $(SCAN_VENV)
	$(SCAN_VENV)/bin/python -m pip install --quiet --disable-pip-version-check "$(CHECKOV)"
	touch $@

scan: $(SCAN_VENV)/.stamp
	$(SCAN_VENV)/bin/checkov --file template.yaml --framework cloudformation --compact --quiet --skip-download

build: setup
	LAMBDA_ARCH=$(ARCH) sam build --parameter-overrides Architecture=$(ARCH)

size: build
	$(BIN)/python scripts/package_size.py

bench: setup
	$(BIN)/python -m bench

# Loopback load test against `lambdaserve serve` (10,000 mixed requests, 16 clients, 10%
# malformed): writes bench/out/load.md; fails on any error or growing memory.
load: setup
	$(BIN)/python -m bench.load

# After editing layers/runtime/requirements.in: hash every wheel (x86_64 and aarch64).
lock: setup
	$(BIN)/python scripts/lock_runtime.py

models: setup
	$(BIN)/python scripts/train_models.py

events: setup
	$(BIN)/python scripts/make_events.py

# The text sample, imported like a user's model (add-model writes its function and events).
TEXT_SOURCE := build/text
TEXT_DESCRIPTION := Product review sentiment (negative, neutral, positive) from its text (TF-IDF + logistic regression).
text-model: setup
	$(BIN)/python scripts/train_models.py --text-source $(TEXT_SOURCE)
	if [ -d layers/models/reviews ]; then $(BIN)/lambdaserve remove-model reviews; fi
	$(BIN)/lambdaserve add-model reviews $(TEXT_SOURCE)/reviews.joblib \
	  --holdout $(TEXT_SOURCE)/reviews_holdout.csv --description "$(TEXT_DESCRIPTION)"
	$(BIN)/python scripts/make_pretraffic.py

clean:
	rm -rf .aws-sam bench/out $(SCAN_VENV) .mypy_cache .ruff_cache .pytest_cache
