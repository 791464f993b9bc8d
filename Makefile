# Two commands for a fresh machine: `make run` (the whole product on embedded defaults)
# and `make test` (the whole test suite). Both create .venv and install the project first.

# The newest Python >= 3.11 found: on PATH, or installed by pyenv. Django 6 needs 3.12+;
# with only 3.11 the project runs on Django 5.2 LTS.
PYTHON ?= $(shell for p in python3.13 python3.12 $(wildcard $(HOME)/.pyenv/versions/3.1[23]*/bin/python3) python3.11 python3; do \
	  $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null && { echo $$p; break; }; done)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

# Installs come from lock files of exact versions and hashes (requirements/), one per Python
# line because Python 3.11 resolves to Django 5.2: dev-pyX.Y.txt (the product, the sandboxes
# and the test tools) for `make run` / `make test`, prod-py3.12.txt for the Docker image.
# `make lock` regenerates them all from pyproject.toml (keeping every pin that still fits);
# `make lock UPGRADE=1` moves every pin to the newest allowed release.
LOCK_PYTHONS := 3.11 3.12 3.13
PROD_PYTHON := 3.12
PY_LINE = $(shell $(if $(wildcard $(BIN)/python),$(BIN)/python,$(PYTHON)) -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null)
LOCK = requirements/dev-py$(PY_LINE).txt
UV_COMPILE = $(BIN)/uv pip compile pyproject.toml --generate-hashes --quiet --no-header \
	$(if $(UPGRADE),--upgrade,)

.PHONY: run test bench install lint format clean lock lock-check messages

# Translations: locale/<lang>/LC_MESSAGES/django.po is the source (committed); the .mo next to
# it is compiled from it here (GNU gettext's msgfmt; Debian: apt-get install gettext).
PO_FILES := $(wildcard locale/*/LC_MESSAGES/*.po)
MO_FILES := $(PO_FILES:.po=.mo)

# axe-core for the accessibility browser tests (tests/a11y), pinned in its package-lock.json and
# installed with npm when npm is there (.ci/run installs nodejs and npm; without them those
# tests are skipped, which CI counts as a failure).
AXE_STAMP := tests/a11y/node_modules/.package-lock.json

$(BIN)/python:
	@test -n "$(PYTHON)" || { echo "Python 3.11 or newer is needed"; exit 1; }
	$(PYTHON) -m venv $(VENV) || { \
	  echo "Could not create a virtualenv; on Debian: apt-get install python3-venv"; exit 1; }

$(STAMP): pyproject.toml $(wildcard requirements/*.txt) | $(BIN)/python
	@test -f $(LOCK) || { echo "No lock file $(LOCK) for Python $(PY_LINE): add it to LOCK_PYTHONS and run make lock"; exit 1; }
	$(BIN)/python -m pip install --quiet --require-hashes --no-deps -r $(LOCK)
	$(BIN)/python -m pip check
	@touch $(STAMP)

%.mo: %.po
	@command -v msgfmt >/dev/null || { echo "msgfmt is needed: apt-get install gettext"; exit 1; }
	msgfmt --check-format -o $@ $<

install: $(STAMP) $(MO_FILES)

run: $(STAMP) $(MO_FILES)
	$(BIN)/python manage.py runapp

test: $(STAMP) $(MO_FILES) $(AXE_STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Collect the marked strings of the code and templates into locale/es (new ones untranslated,
# changed ones fuzzy), then translate them: tests/test_i18n.py fails until every entry is.
messages: $(STAMP)
	$(BIN)/python manage.py makemessages --locale es --no-location --no-obsolete \
	  --ignore 'tests/*' --ignore 'sandbox/*' --ignore 'benchmarks/*' --ignore 'var/*' \
	  --ignore 'staticfiles/*' --ignore 'docs/*'
	@$(MAKE) --no-print-directory $(MO_FILES)

$(AXE_STAMP): tests/a11y/package.json tests/a11y/package-lock.json
	@if command -v npm >/dev/null; then cd tests/a11y && npm ci --no-audit --no-fund --silent; \
	else echo "npm not found: the accessibility tests need it (apt-get install nodejs npm)"; fi

# The sync engine on a real worker against the sandboxes (docs/benchmarks.md):
# `make bench BENCH_ARGS="--records 100000 --rate-limits off"`.
bench: $(STAMP)
	$(BIN)/python manage.py bench $(BENCH_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Regenerate every lock file from pyproject.toml (needs PyPI). Run it after changing a
# dependency in pyproject.toml, and commit requirements/ with that change.
$(BIN)/uv: | $(BIN)/python
	$(BIN)/python -m pip install --quiet 'uv>=0.5,<1'

lock: $(BIN)/uv
	@mkdir -p requirements
	for v in $(LOCK_PYTHONS); do \
	  $(UV_COMPILE) --extra dev --python-version $$v -o requirements/dev-py$$v.txt || exit 1; done
	$(UV_COMPILE) --python-version $(PROD_PYTHON) -o requirements/prod-py$(PROD_PYTHON).txt

# Fails when pyproject.toml asks for something the lock files do not give (CI runs it).
lock-check: $(BIN)/uv
	@tmp=$$(mktemp -d); cp requirements/*.txt $$tmp/; \
	for v in $(LOCK_PYTHONS); do \
	  $(UV_COMPILE) --extra dev --python-version $$v -o $$tmp/dev-py$$v.txt || exit 1; done; \
	$(UV_COMPILE) --python-version $(PROD_PYTHON) -o $$tmp/prod-py$(PROD_PYTHON).txt || exit 1; \
	diff -ru requirements $$tmp >/dev/null || { \
	  diff -ru requirements $$tmp; rm -rf $$tmp; \
	  echo "The lock files do not match pyproject.toml: run make lock and commit requirements/"; exit 1; }; \
	rm -rf $$tmp; echo "lock files match pyproject.toml"

clean:
	rm -rf $(VENV) var/test-results tests/a11y/node_modules $(MO_FILES)
