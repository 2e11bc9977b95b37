# The two commands of the README:
#   make run    set up and start ihl_docs on SQLite and the filesystem evidence store
#   make test   set up and run the whole test suite (SQLite; and PostgreSQL too when
#               IHL_TEST_DATABASE_URL names a server)

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 5000
PYTEST_ARGS ?=
CHROMIUM := /usr/bin/chromium

.PHONY: run test lint browser pdf-libs clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --progress-bar off -e '.[test]'
	touch $(STAMP)

# The job worker (dossier builds, verifications, checkpoints) runs beside the server and stops
# when the server stops; its routine lines go to instance/worker.log, so that what the server
# prints last once it listens (its address, a pending one-time password) stays on the screen.
run: $(STAMP) pdf-libs
	$(BIN)/ihl init
	@mkdir -p $${IHL_INSTANCE_DIR:-instance}
	$(BIN)/ihl worker >>$${IHL_INSTANCE_DIR:-instance}/worker.log 2>&1 & worker=$$!; \
	echo "Job worker started; its log is $${IHL_INSTANCE_DIR:-instance}/worker.log"; \
	trap 'kill $$worker 2>/dev/null; wait $$worker 2>/dev/null' EXIT INT TERM; \
	$(BIN)/ihl serve --host $(HOST) --port $(PORT)

# WeasyPrint subsets fonts with HarfBuzz's subsetting library when it is there (fast, and the
# same bytes on every machine); without it, the slower fontTools fallback. Install it if we may.
pdf-libs:
	@if ! ldconfig -p 2>/dev/null | grep -q libharfbuzz-subset; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "Installing libharfbuzz-subset0 for PDF font subsetting (apt-get)"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libharfbuzz-subset0 >/dev/null; \
	  else \
	    echo "No libharfbuzz-subset and no root to install it: dossiers use the slower fontTools subsetter."; \
	  fi; \
	fi
	@# pdfinfo (poppler-utils) lets the tests confirm that a dossier is a tagged PDF as readers see it.
	@if ! command -v pdfinfo >/dev/null; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "Installing poppler-utils for the tagged-PDF check (apt-get)"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq poppler-utils >/dev/null; \
	  else \
	    echo "No pdfinfo and no root to install it: the tagged-PDF test checks the structure tree only."; \
	  fi; \
	fi

# Browser tests drive the system Chromium; install it when it is missing and we may.
browser:
	@if [ ! -x $(CHROMIUM) ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "Installing Chromium for the browser tests (apt-get)"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else \
	    echo "No $(CHROMIUM) and no root to install it: browser tests will be skipped."; \
	  fi; \
	fi

# The layers (import-linter contracts in pyproject.toml) and ruff first: a crossed layer fails
# the build before any test runs.
lint: $(STAMP)
	$(BIN)/lint-imports --no-cache
	$(BIN)/ruff check ihl_docs tests bench wsgi.py

test: $(STAMP) browser pdf-libs lint
	env -u IHL_TEST_DATABASE_URL $(BIN)/python -m pytest -n 2 $(PYTEST_ARGS)
	@if [ -n "$$IHL_TEST_DATABASE_URL" ]; then \
	  echo "--- the same suite on PostgreSQL ($$IHL_TEST_DATABASE_URL)"; \
	  $(BIN)/python -m pytest -n 2 $(PYTEST_ARGS); \
	fi

clean:
	rm -rf $(VENV) .pytest_cache
