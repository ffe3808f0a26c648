# edgeport: `make run` serves the dev stack locally; `make test` runs every test.
# Both set everything up from the project's own files (pyproject.toml, functions/package-lock.json).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := .make
STACK  ?= dev

.PHONY: setup run test test-js test-py typecheck lint bench schema clean

setup: $(STAMP)/python $(STAMP)/node

$(STAMP)/python: pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@mkdir -p $(STAMP) && touch $@

$(STAMP)/node: functions/package.json functions/package-lock.json
	cd functions && npm ci --no-audit --no-fund --loglevel=error
	@mkdir -p $(STAMP) && touch $@

run: setup
	$(BIN)/edgeport secrets init-local --stack $(STACK)
	$(BIN)/edgeport dev --stack $(STACK)

typecheck: setup
	cd functions && npx tsc -p tsconfig.json && npx tsc -p tsconfig.web.json

lint: setup
	$(BIN)/ruff check components tests policy bench provider

test-js: setup
	cd functions && node --test --test-reporter=dot test/

test-py: setup
	$(BIN)/python -m pytest -q

test: lint typecheck test-js test-py

bench: setup
	$(BIN)/python bench/run.py

# The component package schema for other Pulumi languages (checked in; a test compares).
schema: setup
	$(BIN)/python -m edgeport.schema > provider/schema.json

clean:
	rm -rf .edgeport $(STAMP) functions/node_modules $(VENV)
