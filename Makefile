# poems-fhir — the two commands of the README:
#   make run    the sync job on the bundled sample patients (files in, transactions out; no server)
#   make test   install everything the tests need into .venv and run them all
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

SITE_MAPPINGS := --mappings sample_bundles/site-local/site-mapping.yaml \
                 --mappings sample_bundles/site-local/problems-conceptmap.json

.PHONY: run test venv bench browser clean mutation

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

venv: $(STAMP)

run: $(STAMP)
	$(BIN)/poems-fhir sync --source sample_bundles --out out/transactions --state out/state.sqlite \
		--phi $(SITE_MAPPINGS)

NODE_STAMP := tests/fhir_server/node_modules/.installed

# The integration tests start tests/fhir_server (Medplum's FHIR engine in memory) on loopback;
# without Node.js/npm they are skipped with a message - except in CI (CI set), where they fail.
# As root with apt, Debian's nodejs/npm are installed first.
$(NODE_STAMP): tests/fhir_server/package-lock.json
	@command -v npm >/dev/null 2>&1 || { \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
			(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null) \
			|| echo "could not install nodejs/npm"; fi; }
	@if command -v npm >/dev/null 2>&1; then \
		npm ci --prefix tests/fhir_server --no-audit --no-fund --loglevel=error && touch $@; \
	else echo "npm not found: the FHIR server integration tests will be skipped (fail when CI is set)"; fi

# The HTML report is checked as a person sees it, in headless Chromium (Debian's package).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
			(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
			|| echo "could not install chromium: the browser test will be skipped (fails when CI is set)"; \
		else echo "chromium not installed (needs root and apt-get): the browser test will be skipped (fails when CI is set)"; fi; }

test: $(STAMP) $(NODE_STAMP) browser
	$(BIN)/python -m mypy
	$(BIN)/python -m pytest

# Mutation testing (README "Tests"): slow, not part of `make test`. MUTANTS selects mutants by name
# glob, e.g. make mutation MUTANTS='poems_fhir.sync.state.*'; SAMPLE=N runs N random mutants per module.
MUTANTS ?=
SAMPLE ?=
mutation: $(STAMP)
	$(BIN)/python -m pip install --quiet 'mutmut==3.8.1'
	env -u CI $(BIN)/python benchmarks/mutation_score.py run $(if $(SAMPLE),--sample $(SAMPLE)) $(MUTANTS)
	$(BIN)/python benchmarks/mutation_score.py score $(if $(SAMPLE),--sample-only)

bench: $(STAMP)
	$(BIN)/python benchmarks/evaluate_throughput.py --patients 2000

clean:
	rm -rf $(VENV) .pytest_cache
