# Two entry points (see README): `make demo` and `make test`. Both create .venv on first use.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.stamp-install

.PHONY: demo test lint bench bench-smoke clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/python -m mcp_async demo

test: $(STAMP)
	bash scripts/install-interop-servers.sh
	$(BIN)/ruff check mcp_async tests examples
	$(BIN)/mypy mcp_async examples
	$(BIN)/pytest -q

lint: $(STAMP)
	$(BIN)/ruff check mcp_async tests examples
	$(BIN)/mypy mcp_async examples

bench: $(STAMP)
	$(BIN)/python -m benchmarks.run

bench-smoke: $(STAMP)
	$(BIN)/python -m benchmarks.run --quick --clients floor,mcp_async --servers minimal

clean:
	rm -rf $(VENV) tests/interop/node_modules
