# Set-up and everyday commands. `make demo` and `make test` work on a fresh machine with
# Python 3.11+ (set PYTHON=... to pick the interpreter).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
CORPUS ?=

.PHONY: demo test lint format bench clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "wordspace needs Python 3.11 or newer: make PYTHON=python3.11 ..."; exit 1; }
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed-runtime: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --disable-pip-version-check -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $@ $(VENV)/.installed-runtime

demo: $(VENV)/.installed-runtime
	@CORPUS="$(CORPUS)" WORDSPACE="$(BIN)/wordspace" bash scripts/demo.sh

# one test process per CPU (most tests wait on a subprocess or compile a kernel on one core);
# a module's tests stay in one process, so its fixtures are built once
test: $(VENV)/.installed-test
	$(BIN)/python -m pytest -n auto --dist loadscope

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(VENV)/.installed-test
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: $(VENV)/.installed-test
	$(BIN)/python bench/compare_word2vec.py

clean:
	rm -rf $(VENV) demo-model bench/.cache .pytest_cache .ruff_cache
