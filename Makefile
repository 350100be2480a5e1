# poems-fhir — the two commands of the README:
#   make run    the sync job on the bundled sample patients (files in, transactions out; no server)
#   make test   install everything the tests need into .venv and run them all
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

SITE_MAPPINGS := --mappings sample_bundles/site-local/site-mapping.yaml \
                 --mappings sample_bundles/site-local/problems-conceptmap.json

.PHONY: run test venv bench browser clean lint format

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

# The integration tests start tests/fhir_server (Medplum's FHIR engine in memory) on loopback.
# Without npm, or when the npm registry cannot be reached (offline), they are skipped with a
# message; whenever the registry answers (CI included) the packages are installed. A failed
# install with the registry reachable is a real error and fails make.
$(NODE_STAMP): tests/fhir_server/package-lock.json
	@if ! command -v npm >/dev/null 2>&1; then \
		echo "npm not found: the FHIR server integration tests will be skipped"; \
	elif ! timeout 60 npm ping --fetch-retries=0 --fetch-timeout=20000 --loglevel=silent >/dev/null 2>&1; then \
		echo "npm registry not reachable (offline?): the FHIR server integration tests will be skipped"; \
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
			|| echo "could not install chromium: the browser test will be skipped"; \
		else echo "chromium not installed (needs root and apt-get): the browser test will be skipped"; fi; fi

# Lint: ruff (pyflakes, pycodestyle, bugbear, bandit security rules; config in pyproject.toml).
lint: $(STAMP)
	$(BIN)/ruff check poems_fhir tests benchmarks

# Apply ruff's formatter (not part of `make test` yet: see CHANGELOG).
format: $(STAMP)
	$(BIN)/ruff format poems_fhir tests benchmarks

test: $(STAMP) $(NODE_STAMP) browser lint
	$(BIN)/python -m mypy
	$(BIN)/python -m pytest

bench: $(STAMP)
	$(BIN)/python benchmarks/evaluate_throughput.py --patients 2000
	$(BIN)/python benchmarks/cds_hook.py --requests 400 --clients 2

clean:
	rm -rf $(VENV) .pytest_cache
