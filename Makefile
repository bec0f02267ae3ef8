# The two commands: `make run` (install, migrate, load the demo, serve on http://127.0.0.1:8000)
# and `make test` (install, then the whole test suite). Everything else is a helper of theirs.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: run test lint install bench clean screenshots

run: install
	$(BIN)/jianjian migrate --noinput
	$(BIN)/jianjian demo
	$(BIN)/jianjian serve

test: install
	$(BIN)/ruff check src tests bench
	$(BIN)/jianjian manage makemigrations --check --dry-run
	$(BIN)/pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -c 'import sys; sys.exit("jianjian needs Python >= 3.11") if sys.version_info < (3, 11) else None'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

# Refresh docs/screenshots/ from the browser tests (an ordinary run writes to var/screenshots/).
screenshots: install
	JIANJIAN_REFRESH_SCREENSHOTS=1 $(BIN)/pytest -q -p no:randomly tests/e2e

clean:
	rm -rf $(VENV) var build *.egg-info
