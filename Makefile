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

.PHONY: run run-wsgi test lint test-django52 test-django6 test-django6-py313 bench bench-smoke install-system clean

$(VENV)/.installed: setup.cfg pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -e '.[$(EXTRAS)]' 'django>=5.2,<6.0'
	touch $@

$(VENV6)/.installed: setup.cfg pyproject.toml
	@test -x "$(PYTHON312)" || command -v python3.12 >/dev/null || \
	  { echo "Python 3.12 is needed for the Django 6 suite: set PYTHON312=/path/to/python3.12"; exit 1; }
	$$(test -x "$(PYTHON312)" && echo "$(PYTHON312)" || echo python3.12) -m venv $(VENV6)
	$(VENV6)/bin/pip install -q --upgrade pip
	$(VENV6)/bin/pip install -q -e '.[$(EXTRAS)]' 'django>=6.0,<6.2'
	touch $@

$(VENV613)/.installed: setup.cfg pyproject.toml
	@test -x "$(PYTHON313)" || command -v python3.13 >/dev/null || \
	  { echo "Python 3.13 is needed for the Django 6 suite on 3.13: set PYTHON313=/path/to/python3.13"; exit 1; }
	$$(test -x "$(PYTHON313)" && echo "$(PYTHON313)" || echo python3.13) -m venv $(VENV613)
	$(VENV613)/bin/pip install -q --upgrade pip
	$(VENV613)/bin/pip install -q -e '.[$(EXTRAS)]' 'django>=6.0,<6.2'
	touch $@

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
