# Every target creates the environment it needs, so a fresh clone runs
# `make demo` or `make test` and nothing else.
PYTHON ?= python3.11
VENV   ?= .venv
BIN     = $(VENV)/bin

# The browser tests (tests/test_browser_pages.py, tests/test_event_page.py) drive the system
# Chromium through Playwright (pytest-playwright, in the dev extras); no browser is downloaded.
# `make test` installs Debian's chromium when it is missing and it can (apt-get, as root or
# with sudo that needs no password); otherwise it says so, and those tests skip with the
# reason, summed up at the end of the run. CHROMIUM=/path/to/chromium uses another binary.
CHROMIUM ?= /usr/bin/chromium

.PHONY: demo test test-fast lint bench clean browser notebook

$(BIN)/.installed: pyproject.toml constraints.txt
	@command -v $(PYTHON) >/dev/null || { echo "$(PYTHON) not found: install Python 3.11 or run 'make PYTHON=/path/to/python3.11'"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev]'
	@touch $@

demo: $(BIN)/.installed
	$(BIN)/aishock demo

# The suite in three tiers (tests/tiers.py: unit, integration, e2e), on every core with
# pytest-xdist, each file on one worker and the demo run once (tests/tiers.py says how).
# The run ends with its 20 slowest tests.
test: $(BIN)/.installed browser
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	AISHOCK_CHROMIUM=$(CHROMIUM) $(BIN)/python -m pytest -q -n auto --dist loadfile --no-loadscope-reorder

# The unit tier alone, with the market snapshot hidden (AISHOCK_DATA names an empty
# folder): a unit test that reads it fails here.
test-fast: $(BIN)/.installed
	@empty=$$(mktemp -d) || exit 1; \
	AISHOCK_DATA=$$empty $(BIN)/python -m pytest -q -n auto --dist loadfile -m unit; status=$$?; \
	rmdir "$$empty"; exit $$status

browser:
	@if [ -x "$(CHROMIUM)" ]; then \
		echo "browser tests: using $(CHROMIUM)"; \
	elif [ "$(CHROMIUM)" = /usr/bin/chromium ] && command -v apt-get >/dev/null \
			&& { [ "$$(id -u)" = 0 ] || sudo -n true 2>/dev/null; }; then \
		if [ "$$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo -n"; fi; \
		echo "browser tests: installing Debian's chromium (apt-get install chromium)"; \
		{ $$SUDO apt-get update -qq \
			&& $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } \
			|| echo "browser tests: WARNING: could not install chromium; the browser tests will skip"; \
	else \
		echo "browser tests: WARNING: $(CHROMIUM) not found and not installable here (needs apt-get" \
			"as root or passwordless sudo); the browser tests will skip"; \
	fi

# The sweeps notebook executed on its full grids and saved with its outputs, so it reads on a
# code host without running (tests/test_notebook.py checks the committed copy has them).
notebook: $(BIN)/.installed
	$(BIN)/jupyter nbconvert --to notebook --execute --inplace --ExecutePreprocessor.timeout=1800 notebooks/sweeps.ipynb

lint: $(BIN)/.installed
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

clean:
	rm -rf $(VENV) reports/out data/cache
