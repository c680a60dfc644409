# Two commands set everything up: `make run` and `make test`. Both can be run again safely.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
FLASK := $(VENV)/bin/flask --app app
PYTHON ?= python3
DEMO_PASSWORD ?= peer-support-demo
VENDOR := static/vendor/htmx.min.js static/vendor/pico.min.css

.PHONY: run test test-sqlite test-postgres setup migrate seed bench lint clean

run: setup migrate
	@$(FLASK) seed-demo --password "$(DEMO_PASSWORD)" 2>/dev/null || \
	  echo "Demo data already there. Sign in as admin@example.org, facilitator1@example.org, supervisor1@example.org or trainee01@example.org with password: $(DEMO_PASSWORD)"
	$(FLASK) run --host 127.0.0.1 --port 5000

test: setup migrate
	$(VENV)/bin/pytest $(PYTEST_ARGS)

setup: $(VENV)/.installed $(VENDOR)

$(VENV)/.installed: pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	@touch $@

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

$(VENDOR): node_modules/.package-lock.json
	@mkdir -p static/vendor
	cp node_modules/htmx.org/dist/htmx.min.js static/vendor/htmx.min.js
	cp node_modules/@picocss/pico/css/pico.min.css static/vendor/pico.min.css

migrate: setup
	$(FLASK) db upgrade

bench: setup
	$(PY) benchmarks/run.py

lint: setup
	$(VENV)/bin/ruff check portal tests

clean:
	rm -rf $(VENV) node_modules static/vendor
