# Two entry points (see README): `make demo` and `make test`. Both create .venv on first use:
# `make demo` installs the package alone (what the demo needs), `make test` adds the dev
# and docs extras on top.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
BASE   := $(VENV)/.stamp-base
STAMP  := $(VENV)/.stamp-install
# pytest-xdist workers for `make test` (default: one more than the CPUs, since many tests
# spend part of their time waiting on servers, children and timeouts, which a spare worker
# fills: on 2 cores, 3 workers took the suite from 6:40 to 5:47; `0`: none), and how tests
# are handed to them: `worksteal` gives each worker half of the tests in file order (so
# a module's or session's servers start in one worker, not both) and lets a worker that
# runs out take the not yet started half of the other's, so both finish together.
PYTEST_WORKERS ?= $(shell echo $$(( $$(nproc) + 1 )))
PYTEST_DIST ?= worksteal
# More pytest arguments, e.g. `make test PYTEST_ARGS='tests/interop -x'` (default: none,
# so pytest runs its testpaths).
PYTEST_ARGS ?=

.PHONY: demo test lint docs bench bench-smoke clean FORCE

# The editable install is "strict" (a tree of links under build/): type checkers such as
# mypy see it, which they cannot do with setuptools' default import-hook editable install.
# Such a tree lists the modules that existed when it was made, so adding or removing a
# module (which changes $(MODULES)) re-runs the install.
MODULES := $(VENV)/.modules
$(MODULES): FORCE
	@mkdir -p $(VENV)
	@find mcp_async -name '*.py' -not -path '*/__pycache__/*' | LC_ALL=C sort > $@.new
	@if cmp -s $@.new $@; then rm $@.new; else mv $@.new $@; fi

FORCE:

$(BASE): pyproject.toml $(MODULES)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check -e . \
	    --config-settings editable_mode=strict
	touch $(BASE)

$(STAMP): $(BASE)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev,docs]' --config-settings editable_mode=strict
	touch $(STAMP)

demo: $(BASE)
	$(BIN)/python -m mcp_async demo

test: $(STAMP)
	bash scripts/install-interop-servers.sh
	bash scripts/install-conformance.sh
	bash scripts/install-skills-server.sh
	bash scripts/install-redis.sh
	$(BIN)/python -m coverage erase
	@# The static checks run beside pytest; their output is shown when pytest ends.
	@# pytest runs on $(PYTEST_WORKERS) xdist workers. coverage run, not pytest --cov: the
	@# pytest11 plugin (mcp_async.testing.pytest_plugin) imports the package before pytest-cov
	@# would start measuring, which would hide its module-level lines; each worker is measured from
	@# its first line instead ([tool.coverage.run] in pyproject.toml), then combined.
	@# Bytecode (and pytest's rewritten test modules) is cached under .venv/pycache even
	@# where PYTHONDONTWRITEBYTECODE is set: else every worker and every Python process the
	@# tests start compiles its modules again, run after run.
	bash scripts/beside.sh \
	    ruff '$(BIN)/ruff check mcp_async tests examples' \
	    mypy '$(BIN)/mypy mcp_async examples' \
	    imports '$(BIN)/lint-imports' \
	    mkdocs 'NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet --site-dir $(VENV)/site' \
	    check-package 'bash scripts/check-package.sh' \
	    -- env -u PYTHONDONTWRITEBYTECODE PYTHONPYCACHEPREFIX=$(abspath $(VENV))/pycache \
	    $(BIN)/python -m coverage run -m pytest -q -n $(PYTEST_WORKERS) --dist $(PYTEST_DIST) $(PYTEST_ARGS)
	$(BIN)/python -m coverage combine --quiet
	$(BIN)/python -m coverage report --skip-covered --sort=cover

lint: $(STAMP)
	$(BIN)/ruff check mcp_async tests examples
	$(BIN)/mypy mcp_async examples
	$(BIN)/lint-imports

docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict

bench: $(STAMP)
	$(BIN)/python -m benchmarks.run

bench-smoke: $(STAMP)
	$(BIN)/python -m benchmarks.run --quick --clients floor,mcp_async --servers minimal

clean:
	rm -rf $(VENV) tests/interop/node_modules build site
	rm -rf tests/conformance/node_modules tests/interop/.skills-server-venv
