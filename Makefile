# Two commands set everything up on a fresh machine: `make dev` and `make test`.
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
export PATH := $(CURDIR)/$(BIN):$(PATH)
export PYTHONPATH := $(CURDIR)/layers/core/python:$(CURDIR)
export SAM_CLI_TELEMETRY := 0
export AWS_DEFAULT_REGION ?= us-east-1

.DEFAULT_GOAL := help
.PHONY: help install dev backend test checks lint format typecheck template-lint pytest test-fast test-api test-local test-browser screenshots build clean openapi bench rotate-key

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

install: ## Create .venv and install the pinned tools (run by every other target)
	@scripts/bootstrap.sh

dev: install ## Run the API locally on moto at http://127.0.0.1:3000 (PORT= to change it; no Docker, no AWS)
	@$(BIN)/python -m devserver

test: install ## Lint, type-check, validate the template and run every test (what CI runs); the checks run beside pytest
	@log=$$(mktemp); \
	$(MAKE) --no-print-directory checks > "$$log" 2>&1 & checks=$$!; \
	$(MAKE) --no-print-directory pytest; tests=$$?; \
	wait $$checks; checked=$$?; cat "$$log"; rm -f "$$log"; \
	[ $$tests -eq 0 ] && [ $$checked -eq 0 ]

checks: install lint typecheck template-lint ## ruff, mypy, cfn-lint and sam validate (about 30 s; make test runs them beside pytest)

lint: install ## ruff check and format check
	@echo "==> ruff"
	@$(BIN)/ruff check .
	@$(BIN)/ruff format --check .

format: install ## Fix what ruff can (imports, style) and format the code
	@$(BIN)/ruff check --fix .
	@$(BIN)/ruff format .

typecheck: install ## mypy
	@echo "==> mypy"
	@$(BIN)/mypy

template-lint: install ## cfn-lint and sam validate --lint
	@echo "==> cfn-lint / sam validate"
	@$(BIN)/cfn-lint template.yaml
	@$(BIN)/sam validate --lint --template-file template.yaml

pytest: install ## Every test (tests/domain, tests/api, tests/local, tests/browser), two processes (a test file stays in one)
	@echo "==> pytest"
	@$(BIN)/pytest -n 2 --dist loadfile

test-fast: install ## Pure logic, no moto and no local runtime (tests/domain), in seconds
	@$(BIN)/pytest -q tests/domain

test-api: install ## Handlers and the layer on moto in-process (tests/api)
	@$(BIN)/pytest -n 2 --dist loadfile tests/api

test-local: install ## The local runtime over HTTP, the umapi command, schemathesis, sam build (tests/local)
	@$(BIN)/pytest -n 2 --dist loadfile tests/local

test-browser: install ## The sign-in pages in headless Chromium (tests/browser; Debian's chromium, installed when missing)
	@$(BIN)/pytest -n 2 --dist loadfile tests/browser

screenshots: install ## Run the browser suite and keep its screenshots in docs/images/ (the docs show them)
	@SCREENSHOTS=$(CURDIR)/docs/images $(BIN)/pytest -q tests/browser

bench: install ## Benchmark: cold imports, warm latency vs moto, DynamoDB calls, listings at 100–10,000 users, webhook rate, jobs and the local table at up to 1,000,000 items (bench/results.json)
	@$(BIN)/python bench/run.py

openapi: install ## Regenerate openapi.json from the code (the layer links to it)
	@$(BIN)/python scripts/openapi.py

build: install ## sam build (layer dependencies for arm64 from PyPI)
	@$(BIN)/sam build

clean: ## Remove .venv, build output and caches
	rm -rf $(VENV) .aws-sam .pytest_cache .mypy_cache .ruff_cache devserver/swagger/node_modules

rotate-key: install ## Rotate the signing key of the running `make dev` (PORT= as for make dev); says when it signs
	@$(BIN)/python scripts/admin.py --local $${PORT:-3000} rotate-signing-key

backend: install ## Only moto, provisioned from template.yaml on 0.0.0.0:5000 (for `sam local start-api`)
	@$(BIN)/python -m devserver --backend-only --moto-host 0.0.0.0 --moto-port 5000
