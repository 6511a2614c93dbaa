# The two commands of the README:
#   make book   set up .venv if needed, then build the book into _build/html
#   make test   set up .venv if needed, then lint, unit tests, every notebook (nbmake), strict book build,
#               and the built pages in Chromium (tests/site)
# Everything else here is a convenience.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
JOBS   ?= 2

.PHONY: setup datasets preflight book book-clean test lint unit notebooks book-strict site-test lab emulator bench clean help

help:
	@echo "make book   build the book (creates .venv from requirements.txt if missing)"
	@echo "make test   lint + unit tests + every notebook with nbmake + strict book build + browser check"
	@echo "make setup  create .venv from requirements.txt and build the metered data sets (what a workshop participant runs first)"
	@echo "make datasets   build (or find in the cache) every metered data set the notebooks read"
	@echo "make preflight  check this laptop for the workshop (ends with an emulator round trip)"
	@echo "make lab    open the notebooks in JupyterLab"
	@echo "make emulator   run the Revenium-compatible emulator on 127.0.0.1:8787"
	@echo "make bench  print the measured figures of benchmarks/"

$(STAMP): requirements.txt pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 10), f"Python >= 3.10 needed, this is {sys.version.split()[0]}"'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	@touch $(STAMP)

setup: $(STAMP) datasets

# Every data set the notebooks read (Parts B-D analyse metered data): a cache hit takes a second,
# a cold set is metered through the tracker into an emulator (a minute or two each on a quiet
# laptop). Runs before any notebook executes, so two nbmake workers never meter one set twice.
datasets: $(STAMP)
	$(BIN)/showcase datasets warm --notebooks notebooks

# The workshop's pre-flight: Python, packages, a free loopback port, a 10-second emulator round trip.
preflight: $(STAMP)
	$(BIN)/showcase doctor --round-trip

# jupyter-cache only sees notebook code cells; clear it when the library changes.
_build/.lib-hash: FORCE
	@mkdir -p _build
	@h=$$(find showcase_lib -type f \( -name '*.py' -o -name '*.j2' -o -name '*.html' -o -name '*.css' -o -name '*.csv' \) | LC_ALL=C sort | xargs cat | sha256sum | cut -c1-16); \
	 if [ "$$(cat $@ 2>/dev/null)" != "$$h" ]; then \
	   echo "showcase_lib changed: clearing the notebook execution cache"; \
	   rm -rf _build/.jupyter_cache; echo "$$h" > $@; fi

FORCE:

book: $(STAMP) datasets _build/.lib-hash
	$(BIN)/jupyter-book build . --warningiserror --keep-going
	@echo "Book built: open _build/html/index.html"

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

unit: $(STAMP)
	$(BIN)/pytest -n $(JOBS) --doctest-modules --ignore=tests/site tests showcase_lib

notebooks: $(STAMP) datasets
	$(BIN)/pytest -n $(JOBS) --nbmake --nbmake-timeout=300 notebooks

# A clean, strict build: every notebook executed afresh, any warning fails.
book-strict: $(STAMP) datasets
	rm -rf _build/html _build/.jupyter_cache _build/.lib-hash
	$(BIN)/jupyter-book build . --warningiserror --keep-going
	@echo "Book built: open _build/html/index.html"

# The built pages in Chromium at desktop and phone widths (needs _build/html and `chromium`).
site-test: $(STAMP)
	$(BIN)/pytest -q tests/site

test: lint unit notebooks book-strict site-test

# Lab's root is the repository, so the notebooks' links to book/*.md open; containers often run
# as root, where Jupyter refuses to start without --allow-root (passed then, with a note).
# jupyterlab-myst (requirements.txt) renders the book's exercises, solutions and {download} links.
lab: $(STAMP)
	@[ "$$(id -u)" -ne 0 ] || echo "note: running as root (as in many containers): starting Lab with --allow-root"
	$(BIN)/jupyter lab --ServerApp.root_dir="$(CURDIR)" --ServerApp.default_url=/lab/tree/notebooks/a_instrumentation/01_async_tracking.ipynb \
	  $$([ "$$(id -u)" -eq 0 ] && echo --allow-root)

emulator: $(STAMP)
	SHOWCASE_EMULATOR_API_KEY=$${SHOWCASE_EMULATOR_API_KEY:-hak_local_workshop_key} $(BIN)/showcase emulator --host 127.0.0.1 --port 8787

bench: $(STAMP)
	@for b in benchmarks/bench_*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

clean:
	rm -rf _build .pytest_cache .ruff_cache .hypothesis
