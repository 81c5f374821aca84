# biodist: two commands do all set-up on a fresh machine.
#   make demo  - create .venv, install biodist, run the default scenario into results/demo
#   make test  - create .venv, install biodist with the test extras, run ruff, the import contract and the tests
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: demo test lint clean posterior

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Stamp files re-install only when the project's metadata changes.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@ $(VENV)/.installed

demo: $(VENV)/.installed
	$(BIN)/biodist simulate configs/human_msc_iv.toml --out results/demo

lint: $(VENV)/.installed-test
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/lint-imports --no-cache

PYTEST_ARGS ?= -m "not slow"

test: $(VENV)/.installed-test lint
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The shipped posterior of the default product (configs/posteriors/bm_msc.parquet and its provenance .json):
# the calibration of configs/calibration/bm_msc.toml against the validation library (~7 min on 2 cores).
posterior: $(VENV)/.installed
	$(BIN)/biodist calibrate configs/calibration/bm_msc.toml --out results/calibration/bm_msc \
		--export-posterior configs/posteriors/bm_msc.parquet

clean:
	rm -rf $(VENV) results .pytest_cache .ruff_cache
