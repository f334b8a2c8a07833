# `make run` serves the sample project; `make test` runs every check CI runs.
PORT ?= 8000
CABLE_PORT ?= 8001
PYTHON ?= python3
PYTHON312 ?= $(shell pyenv root 2>/dev/null)/versions/3.12.1/bin/python3.12
PYTHON313 ?= $(shell pyenv root 2>/dev/null)/versions/3.13.0/bin/python3.13
VENV := .venv
VENV6 := .venv-django6
VENV613 := .venv-py313
EXTRAS := dev,daphne,uvicorn,redis
comma := ,

.PHONY: run run-wsgi test lint test-django52 test-django6 test-django6-py313 bench bench-smoke install-system clean

# One recipe per test environment: $(call venv,DIR,PYTHON_VARIABLE,COMMAND,DJANGO,SUITE).
# The interpreter is $(PYTHON_VARIABLE) if it exists, else COMMAND on PATH.
define venv
$(1)/.installed: setup.cfg pyproject.toml
	@test -x "$($(2))" || command -v "$($(2))" >/dev/null || command -v $(3) >/dev/null || \
	  { echo "$(3) is needed for $(5): set $(2)=/path/to/$(3)"; exit 1; }
	$$$$(test -x "$($(2))" && echo "$($(2))" || command -v "$($(2))" || echo $(3)) -m venv $(1)
	$(1)/bin/pip install -q --upgrade pip
	$(1)/bin/pip install -q -e '.[$$(EXTRAS)]' '$(4)'
	touch $$@
endef

$(eval $(call venv,$(VENV),PYTHON,python3,django>=5.2$(comma)<6.0,the Django 5.2 suite))
$(eval $(call venv,$(VENV6),PYTHON312,python3.12,django>=6.0$(comma)<6.2,the Django 6 suite))
$(eval $(call venv,$(VENV613),PYTHON313,python3.13,django>=6.0$(comma)<6.2,the Django 6 suite on 3.13))

run: $(VENV)/.installed
	@test -d .js/node_modules/@hotwired/turbo || ! command -v npm >/dev/null || \
	  npm install --silent --prefix .js @hotwired/turbo@8 --no-audit --no-fund || \
	  echo "Turbo could not be fetched; the sample runs without it."
	$(VENV)/bin/python manage.py migrate --noinput
	$(VENV)/bin/python manage.py seed
	$(VENV)/bin/python manage.py runserver 127.0.0.1:$(PORT)

# The sample as a WSGI site: gunicorn serves the pages on PORT and `manage.py runcable`
# the cable on CABLE_PORT; the pages connect there and broadcast there.
run-wsgi: $(VENV)/.installed
	@test -d .js/node_modules/@hotwired/turbo || ! command -v npm >/dev/null || \
	  npm install --silent --prefix .js @hotwired/turbo@8 --no-audit --no-fund || \
	  echo "Turbo could not be fetched; the sample runs without it."
	$(VENV)/bin/python manage.py migrate --noinput
	$(VENV)/bin/python manage.py seed
	export TURBO_CABLE_CABLE_URL=ws://127.0.0.1:$(CABLE_PORT)/cable \
	  TURBO_CABLE_BROADCAST_URL=http://127.0.0.1:$(CABLE_PORT)/_broadcast \
	  TURBO_CABLE_ALLOWED_ORIGINS=http://127.0.0.1:$(PORT),http://localhost:$(PORT); \
	$(VENV)/bin/python manage.py runcable --port $(CABLE_PORT) & cable=$$!; \
	trap 'kill $$cable 2>/dev/null' EXIT; \
	$(VENV)/bin/gunicorn sample_project.wsgi --bind 127.0.0.1:$(PORT) --workers 2

install-system:
	bash .ci/install-system

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

test-django52: $(VENV)/.installed install-system
	$(VENV)/bin/python -m pytest $(PYTEST_ARGS)

test-django6: $(VENV6)/.installed install-system
	$(VENV6)/bin/python -m pytest $(PYTEST_ARGS)

test-django6-py313: $(VENV613)/.installed install-system
	$(VENV613)/bin/python -m pytest $(PYTEST_ARGS)

test: lint test-django52 test-django6 test-django6-py313

# The benchmarks get their own environment, so the test one stays lean.
VENVBENCH := .venv-bench
BENCH_ARGS ?=

$(VENVBENCH)/.installed: setup.cfg pyproject.toml benchmarks/package-lock.json
	$(PYTHON) -m venv $(VENVBENCH)
	$(VENVBENCH)/bin/pip install -q --upgrade pip
	$(VENVBENCH)/bin/pip install -q -e '.[bench,daphne,uvicorn]' 'django>=5.2,<6.0'
	cd benchmarks && npm ci --no-audit --no-fund
	touch $@

bench: $(VENVBENCH)/.installed install-system
	$(VENVBENCH)/bin/python -m benchmarks.run $(BENCH_ARGS)

bench-smoke: $(VENV)/.installed install-system
	$(VENV)/bin/python -m pytest tests/test_bench_smoke.py

clean:
	rm -rf $(VENV) $(VENV6) $(VENV613) .venv-bench *.egg-info
