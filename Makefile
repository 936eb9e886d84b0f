# The two commands README.md gives. Both set up from scratch first (idempotent).
PY ?= python3

.PHONY: setup test demo
setup:
	bash scripts/setup.sh

test: setup
	if [ -x scripts/docker-engine.sh ]; then bash scripts/docker-engine.sh start || true; fi
	$(PY) -m ruff check --no-cache .
	$(PY) -m pytest tests

demo: setup
	$(PY) -m benchmark.cli demo
