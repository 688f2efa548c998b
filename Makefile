# `make run` and `make test` each build the virtual environment from scratch when it is missing
# (or when pyproject.toml changed), then do their job.
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint bench clean

$(STAMP): pyproject.toml
	rm -rf $(VENV)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/feeds serve --host 127.0.0.1 --port 8000

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

clean:
	rm -rf $(VENV) var build *.egg-info

# Benchmarks (issue 8; BENCHMARKS.md): `make bench`, or `make bench BENCH_QUICK=1` for a quick look.
bench: $(STAMP)
	$(BIN)/python -m bench

# Long reliability runs (issue 9; soak/): a 10-minute soak of every feed (SOAK_SECONDS, default
# 600; SOAK_INTERVAL between ingests, default 30), 50,000-item crash runs, a faulty gov.kz
# with the latency ratio, a million-line hostile dump. Both stores with FEEDS_TEST_POSTGRES_URL.
.PHONY: soak
soak: $(STAMP)
	$(BIN)/python -m pytest soak/ -p no:cacheprovider -s -ra
