# The two commands: `make run` (install, migrate, load the demo, serve on http://127.0.0.1:8000)
# and `make test` (install with the test tools, then the whole test suite). Everything else is a
# helper of theirs. `make run` installs only what the product needs; `make test` adds the tools.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: run test lint install dev bench clean screenshots

run: install
	$(BIN)/jianjian migrate --noinput
	$(BIN)/jianjian demo
	$(BIN)/jianjian serve

test: dev
	$(BIN)/ruff check src tests bench
	$(BIN)/jianjian manage makemigrations --check --dry-run
	$(BIN)/pytest $(PYTEST_ARGS)

lint: dev
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy

# The product alone (what `make run` needs).
install: $(VENV)/.installed

# The product and the test and lint tools (what `make test` and `make lint` need).
dev: $(VENV)/.installed-dev

$(BIN)/python:
	$(PYTHON) -c 'import sys; sys.exit("jianjian needs Python >= 3.11") if sys.version_info < (3, 11) else None'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(VENV)/.installed $@

# Refresh docs/screenshots/ from the browser tests (an ordinary run writes to var/screenshots/).
screenshots: install
	JIANJIAN_REFRESH_SCREENSHOTS=1 $(BIN)/pytest -q -p no:randomly tests/e2e

clean:
	rm -rf $(VENV) var build *.egg-info
