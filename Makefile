# Three commands do all the set-up on a fresh machine:
#   make start  creates .venv, installs, and starts the platform: demo data (a year up to today), collector, runner following new events
#   make demo   creates .venv, installs the platform, and runs the demo on the embedded default (a year up to today)
#   make test   creates .venv, installs the platform with its test tools, PostgreSQL (Debian's package, as root:
#               infra/install-test-services.sh) and, when npm is present, the Node clients of tests/node; runs every test
# The venv is not activated: afterwards run `. .venv/bin/activate`, or call .venv/bin/cdp.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: start demo test bench bench-collector clean

$(BIN)/cdp: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[test]"
	touch $@

start: $(BIN)/cdp
	$(BIN)/cdp start

demo: $(BIN)/cdp
	$(BIN)/cdp demo

test: $(BIN)/cdp
	infra/install-test-services.sh
	if command -v npm >/dev/null; then npm ci --prefix tests/node --no-audit --no-fund --silent; fi
	$(BIN)/python -m pytest -n 2 --dist loadscope --no-loadscope-reorder  # two test processes (pytest-xdist; a module stays on one, so its module-scoped servers start once): the suite waits on servers and subprocesses as much as it computes; the longest modules first (tests/conftest.py)

bench: $(BIN)/cdp
	$(BIN)/python -m benchmarks.suite --events 1000000

bench-collector: $(BIN)/cdp
	$(BIN)/python -m benchmarks.collector

clean:
	rm -rf $(VENV) .cdp
