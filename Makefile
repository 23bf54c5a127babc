# Developer and CI entry points. Every target first runs scripts/install.sh, which is quick when
# nothing changed, so a fresh clone needs nothing but `make test`.
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := test

VENV := .venv
BIN := $(VENV)/bin
# Packages mypy checks; directories without Python files yet are left out (mypy rejects them).
MYPY_DIRS := schemas adapters federation hub migrations tests bench

export C4HUB_SHARED_DIR ?= $(CURDIR)/../shared
export C4HUB_MODELS_DIR ?= $(C4HUB_SHARED_DIR)/models
export ORT_DISABLE_TELEMETRY := 1
export YOLO_OFFLINE := 1
# Ultralytics writes its settings here, not in the home directory.
export YOLO_CONFIG_DIR ?= $(CURDIR)/.c4hub/ultralytics

.PHONY: install run test lint bench

install:
	bash scripts/install.sh

run: install
	$(BIN)/c4hub serve

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy $$(for d in $(MYPY_DIRS); do \
		[ -n "$$(find "$$d" -name '*.py' -print -quit 2>/dev/null)" ] && echo "$$d"; done)

test: lint
	$(BIN)/pytest

bench: install
	@shopt -s nullglob; scripts=(bench/*.py); \
	if [ $${#scripts[@]} -eq 0 ]; then echo "bench: no bench/*.py yet"; fi; \
	for script in "$${scripts[@]}"; do \
		module=$$(basename "$$script" .py); \
		[ "$$module" = __init__ ] && continue; \
		echo "bench: bench.$$module"; \
		$(BIN)/python -m "bench.$$module"; \
	done
