# edgeport: `make run` serves the dev stack locally; `make test` runs every test.
# Both set everything up from the project's own files (requirements.lock, functions/package-lock.json).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := .make
STACK  ?= dev
LOCK   := requirements.lock

.PHONY: setup run test test-js test-py test-under-load typecheck lint bench schema clean lock dist

setup: $(STAMP)/python $(STAMP)/node

# The exact versions the tests ran with: provider SDK versions decide the provider plugin versions `pulumi up`
# downloads, and pulumi-cloudflare changed behaviour within 6.x (pulumi-cloudflare #1215). --no-deps: nothing
# outside the lock gets in (a dependency missing from it fails `pip check` instead of installing its latest
# version); edgeport itself goes in editable, built by the locked setuptools (no isolated build env to resolve).
$(STAMP)/python: pyproject.toml $(LOCK)
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --no-deps -r $(LOCK)
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	$(BIN)/python -m pip check
	@mkdir -p $(STAMP) && touch $@

# Rewrite requirements.lock from .venv, after changing a version there and running `make test`
# (tests/test_lock.py keeps pyproject.toml's lower bounds equal to the locked versions).
lock:
	@test -x $(BIN)/python || { echo "make lock: no $(VENV) to freeze; run make setup first" >&2; exit 1; }
	@{ printf '%s\n' \
	  "# The exact Python packages edgeport's test suite ran with (CPython 3.11). \`make setup\` installs these, then" \
	  "# edgeport itself with --no-deps. pyproject.toml keeps ranges for library users; their lower bounds for the" \
	  "# provider SDKs, pulumi and boto3 equal the versions here (tests/test_lock.py)." \
	  "# Regenerate from the project's .venv with \`make lock\` (pip freeze --all --exclude-editable --exclude pip)."; \
	  $(BIN)/python -m pip freeze --all --exclude-editable --exclude pip; } > $(LOCK).new
	@mv $(LOCK).new $(LOCK)
	@echo "wrote $(LOCK) ($$(grep -c '==' $(LOCK)) packages)"

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
	cd functions && node --test --test-reporter=dot $$(find src platforms test -name "*.test.mjs" | sort)

test-py: setup
	$(BIN)/python -m pytest -q -n auto --maxprocesses 4 --dist loadfile

test: lint typecheck test-js test-py

# The whole suite while other work competes for the machine: 4 CPU-bound processes and one churning disk and
# memory (tests/load/compete.py). A test that only passes on a quiet machine fails here.
test-under-load: setup
	@$(BIN)/python tests/load/compete.py --cpu 4 --io 1 & pid=$$!; \
	  trap "kill $$pid 2>/dev/null" EXIT; \
	  $(MAKE) test

bench: setup
	npm ci --prefix bench --no-audit --no-fund --loglevel=error
	$(BIN)/python bench/run.py

# The component classes and argument types, generated from the declaration models, the component package
# schema for other Pulumi languages derived from them, and the scenario files' JSON Schema from their models
# (all checked in; tests compare).
schema: setup
	$(BIN)/python -m edgeport.argsgen
	$(BIN)/python -m edgeport.schema > provider/schema.json
	$(BIN)/python -c "from edgeport.conformance.model import json_schema; print(json_schema(), end='')" > conformance/scenario.schema.json

# An sdist and a wheel built from it (python -m build), carrying the prebuilt engines, the local runtime hosts with
# their lockfile and the conformance scenarios (setup.py writes them from functions/ and conformance/): deploys from
# the wheel need no Node. --no-isolation: built by the locked setuptools in .venv, no download.
dist: setup
	rm -rf dist
	$(BIN)/python -m build --no-isolation --outdir dist .
	@ls -l dist

clean:
	rm -rf .edgeport $(STAMP) functions/node_modules $(VENV)
