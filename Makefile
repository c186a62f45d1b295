# Two commands: `make run` (set up and start everything) and `make test` (set up and pass the suite).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt | cksum | cut -d' ' -f1)

.PHONY: setup browser run test lint bench clean-data

$(STAMP): requirements.txt requirements-dev.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	@rm -f $(VENV)/.installed-*
	@touch $@

setup: $(STAMP)

run: setup
	$(PY) -m app run

# The end-to-end tests drive Debian's Chromium (Playwright cannot download its own browser here).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing Debian's chromium for the end-to-end tests"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "make test: the end-to-end tests need chromium (apt-get install chromium)" >&2; exit 1; fi; }

test: setup browser
	$(PY) -m pytest

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(PY) tools/walls.py

bench: setup
	$(PY) -m bench.seed
	$(PY) -m bench.pages
	$(PY) -m bench.send
	$(PY) -m bench.ingest
	$(PY) -m bench.first_paint
	$(PY) -m bench.plan_validation
	$(PY) -m bench.import
	$(PY) -m bench.triage
	$(PY) -m bench.campaigns
	$(PY) -m bench.ai_quality
	$(PY) -m bench.faults

clean-data:
	rm -rf .data
