# Two commands do all the set-up on a fresh machine:
#   make demo   creates .venv, installs the platform, and runs the demo on the embedded default
#   make test   creates .venv, installs the platform with its test tools, and runs every test
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test bench clean

$(BIN)/cdp: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[test]"
	touch $@

demo: $(BIN)/cdp
	$(BIN)/cdp demo

test: $(BIN)/cdp
	infra/install-test-services.sh
	$(BIN)/python -m pytest

bench: $(BIN)/cdp
	$(BIN)/python -m benchmarks.suite --events 1000000

clean:
	rm -rf $(VENV) .cdp
