# poems-fhir — the two commands of the README:
#   make run    the sync job on the bundled sample patients (files in, transactions out; no server)
#   make test   install everything the tests need into .venv and run them all
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

SITE_MAPPINGS := --mappings sample_bundles/site-local/site-mapping.yaml \
                 --mappings sample_bundles/site-local/problems-conceptmap.json

.PHONY: run test venv bench browser clean lint format catalogs mutation bench-scale ucum-table

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,distributed]'
	touch $(STAMP)

venv: $(STAMP)

run: $(STAMP)
	$(BIN)/poems-fhir sync --source sample_bundles --out out/transactions --state out/state.sqlite \
		--phi $(SITE_MAPPINGS)

NODE_STAMP := tests/fhir_server/node_modules/.installed

# The integration tests start tests/fhir_server (Medplum's FHIR engine in memory) on loopback.
# As root with apt, Debian's nodejs/npm are installed first when npm is missing. Without npm, or
# when the npm registry cannot be reached (offline), they are skipped with a message - except in CI
# (CI set), where the tests then fail. Whenever the registry answers the packages are installed; a
# failed install with the registry reachable is a real error and fails make.
$(NODE_STAMP): tests/fhir_server/package-lock.json
	@command -v npm >/dev/null 2>&1 || { \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
			echo "installing Debian's nodejs and npm (apt-get) for the FHIR server integration tests"; \
			(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null) \
			|| echo "could not install nodejs/npm"; fi; }
	@if ! command -v npm >/dev/null 2>&1; then \
		echo "npm not found: the FHIR server integration tests will be skipped (fail when CI is set)"; \
	elif ! timeout 60 npm ping --fetch-retries=0 --fetch-timeout=20000 --loglevel=silent >/dev/null 2>&1; then \
		echo "npm registry not reachable (offline?): the FHIR server integration tests will be skipped (fail when CI is set)"; \
	else npm ci --prefix tests/fhir_server --no-audit --no-fund --loglevel=error && touch $@; fi

# The HTML report is checked as a person sees it, in headless Chromium (Debian's package).
# As root with apt-get, `make test` installs it and says so first; NO_BROWSER=1 turns that off
# (the browser test is then skipped with a message).
browser:
	@if [ -n "$(NO_BROWSER)" ]; then echo "NO_BROWSER set: not installing chromium; the browser test will be skipped"; \
	elif ! command -v chromium >/dev/null 2>&1; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
			echo "installing Debian's chromium with apt-get (for the HTML page's browser test; NO_BROWSER=1 skips this)"; \
			(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
			|| echo "could not install chromium: the browser test will be skipped (fails when CI is set)"; \
		else echo "chromium not installed (needs root and apt-get): the browser test will be skipped (fails when CI is set)"; fi; fi

# Lint: ruff (pyflakes, pycodestyle, bugbear, bandit security rules; config in pyproject.toml).
lint: $(STAMP)
	$(BIN)/ruff check poems_fhir tests benchmarks
	$(BIN)/ruff format --check poems_fhir tests benchmarks

# Apply ruff's formatter; `make test` checks that it has nothing left to do.
format: $(STAMP)
	$(BIN)/ruff format poems_fhir tests benchmarks

test: $(STAMP) $(NODE_STAMP) browser lint
	$(BIN)/python -m mypy
	$(BIN)/python -m pytest

# Mutation testing (README "Tests"): slow, not part of `make test`. MUTANTS selects mutants by name
# glob, e.g. make mutation MUTANTS='poems_fhir.sync.state.*'; SAMPLE=N runs N random mutants per module.
MUTANTS ?=
SAMPLE ?=
# the UCUM library's answers for the default mapping's units (mapping/ucum_table.json): rerun after
# adding a unit to mappings/default.yaml (tests/mapping/test_ucum_table.py says when)
ucum-table: $(STAMP)
	$(BIN)/python -m poems_fhir.mapping.ucum_table

mutation: $(STAMP)
	$(BIN)/python -m pip install --quiet 'mutmut==3.8.1'
	env -u CI $(BIN)/python benchmarks/mutation_score.py run $(if $(SAMPLE),--sample $(SAMPLE)) $(MUTANTS)
	$(BIN)/python benchmarks/mutation_score.py score $(if $(SAMPLE),--sample-only)

bench: $(STAMP)
	$(BIN)/python benchmarks/evaluate_throughput.py --patients 2000
	$(BIN)/python benchmarks/text_context.py --patients 2000
	$(BIN)/python benchmarks/cds_hook.py --requests 400 --clients 2

# issue #11: per input size (2k / 20k / 100k patients) wall, resources/s, x json.loads, peak RSS,
# worker scaling, first file-mode sync; the README table and docs/scale.png. SIZES=2000,20000 to shorten.
SIZES ?= 2000,20000,100000
bench-scale: $(STAMP)
	$(BIN)/python benchmarks/scale.py --sizes $(SIZES) --out docs/scale.json --plot docs/scale.png
	$(BIN)/python benchmarks/chart_cost.py

clean:
	rm -rf $(VENV) .pytest_cache

# Clinician-facing language catalogs (poems_fhir/locale): extract the English msgids, merge them
# into every <lang>.po (translator comments such as "unreviewed" are kept), compile the .mo files
# that ship in the wheel. New language: $(BIN)/pybabel init -D poems_fhir -i poems_fhir/locale/poems_fhir.pot -d poems_fhir/locale -l xx
PYBABEL_EXTRACT := extract --no-location --sort-output -k N_ -k _ -k n_:1,2 --project poems-fhir
catalogs: $(STAMP)
	$(BIN)/pybabel $(PYBABEL_EXTRACT) -o poems_fhir/locale/poems_fhir.pot poems_fhir
	$(BIN)/pybabel update -D poems_fhir -i poems_fhir/locale/poems_fhir.pot -d poems_fhir/locale --no-fuzzy-matching
	$(BIN)/pybabel compile -D poems_fhir -d poems_fhir/locale --statistics
