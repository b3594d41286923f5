# The two commands of the README: `make demo` and `make test`. Both set up what is
# missing first (uv, the locked environment in .venv, Graphviz; Chromium for tests).
SHELL := /bin/bash
.DEFAULT_GOAL := demo
export UV_PYTHON_DOWNLOADS := never

.PHONY: demo test setup setup-test check bench bench-service serve clean

setup:
	@scripts/setup.sh

setup-test:
	@scripts/setup.sh --test

## Assess every bundled case report and write the results to ./pumpdx-output
demo: setup
	@.venv/bin/pumpdx demo

## The whole test suite (and ruff + mypy)
test: setup-test
	@.venv/bin/ruff check .
	@scripts/typecheck.sh
	@.venv/bin/pytest

## The HTTP service with the consultation page on http://127.0.0.1:8080/ (authentication
## off: local use only; see docs/service.md for the secure configuration)
serve: setup
	@.venv/bin/pumpdx serve --insecure-dev

bench: setup
	@.venv/bin/python bench/bench.py

## Latency and throughput of the CDS Hooks call (starts the service on 127.0.0.1)
bench-service: setup
	@.venv/bin/python bench/bench_service.py

clean:
	rm -rf .venv pumpdx-output .pytest_cache .mypy_cache .ruff_cache
