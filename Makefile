# Convenience targets; each is what the README spells out.
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: up test lint schemas clean user-flow bench cluster-demo soak

$(VENV)/bin/sparks:
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install -q -e '.[test]'

up: $(VENV)/bin/sparks
	$(VENV)/bin/sparks up

test: $(VENV)/bin/sparks
	$(VENV)/bin/pytest

lint: $(VENV)/bin/sparks
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/sparks schemas --check

schemas: $(VENV)/bin/sparks
	$(VENV)/bin/sparks schemas

clean:
	rm -rf $(VENV) .sparks .pytest_cache .mypy_cache .ruff_cache

# The original product's end-to-end harness: fake Linear + sparks up + a signed webhook.
user-flow: $(VENV)/bin/sparks
	$(PY) tools/user_flow.py

# The pipeline against a bare NATS relay in one run (`--quick` for under a minute).
bench: $(VENV)/bin/sparks
	$(VENV)/bin/sparks bench

# A real three-node cluster: stream with 3 replicas, two replicas of each service, the leader killed.
cluster-demo: $(VENV)/bin/sparks
	$(VENV)/bin/pytest tests/test_cluster.py -v -s

# The fault tests long: 2,000 tickets per test, each service killed 5 times, 3 broker kills,
# 300 issues through two Linear outages (the short version runs in `make test` and CI).
soak: $(VENV)/bin/sparks
	$(VENV)/bin/pytest tests/faults -m fault --soak -v
