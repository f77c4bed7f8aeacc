# Schoolgate: short targets that call uv. `make run` and `make test` set up what they need.
# Stop here if there is no uv, rather than run each target with an empty command.
UV := $(or $(shell scripts/ensure-uv.sh),$(error no uv to run: see the line above))
export UV_LINK_MODE ?= copy

.PHONY: run demo test lint format contracts bench sync

sync:
	$(UV) sync --frozen --all-packages --quiet

## Start a real school's Schoolgate at http://localhost:8000 (data under ./var). On the first
## start it prints the one-time link that opens the school.
run: sync
	SCHOOLGATE_ENVIRONMENT=$${SCHOOLGATE_ENVIRONMENT:-production} $(UV) run python -m schoolgate_embedded

## Try Schoolgate with a made-up demo school, kept apart in var/demo (never a real school's data).
demo: sync
	SCHOOLGATE_DEMO=1 SCHOOLGATE_DATA_DIR=var/demo $(UV) run python -m schoolgate_embedded

## Run the whole suite against a private RabbitMQ node started for the run.
test:
	scripts/test.sh

# No known-vulnerability audit yet: uv audit and pip-audit need OSV's API or PyPI's per-release
# JSON, and neither is reachable from the machines this project builds on (only PyPI's index is).
lint: sync
	$(UV) run ruff check .
	$(UV) run ruff format --check .
	$(UV) run mypy contracts/src kit/src services/*/src embedded/src
	$(UV) run lint-imports
	$(UV) run python scripts/check_js_imports.py

format: sync
	$(UV) run ruff format .
	$(UV) run ruff check --fix .

## Write JSON Schema for every event into contracts/schemas.
contracts: sync
	$(UV) run python -m schoolgate_contracts.schemas contracts/schemas

## Benchmarks: each figure beside a baseline measured in the same run.
bench: sync
	$(UV) run python -m bench.run $(BENCH_ARGS)
