# Two commands set everything up: `make run` and `make test`. Both can be run again safely.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
FLASK := $(VENV)/bin/flask --app app
JOBS_ARGS ?= -k thread -w 2
CONSUMER := $(VENV)/bin/huey_consumer portal.jobs.huey $(JOBS_ARGS)
PYTHON ?= python3
DEMO_PASSWORD ?= peer-support-demo
VENDOR := static/vendor/htmx.min.js static/vendor/pico.min.css

.PHONY: run jobs test test-sqlite test-postgres setup migrate seed bench lint clean

run: setup migrate
	@$(FLASK) seed-demo --password "$(DEMO_PASSWORD)" 2>/dev/null || \
	  echo "Demo data already there. Sign in as admin@example.org, facilitator1@example.org, supervisor1@example.org or trainee01@example.org with password: $(DEMO_PASSWORD)"
	@# The web server and the job consumer together: Ctrl-C, or the server stopping, stops both.
	@$(CONSUMER) & consumer=$$!; \
	  trap 'kill $$consumer 2>/dev/null; wait $$consumer 2>/dev/null' EXIT INT TERM; \
	  $(FLASK) run --host 127.0.0.1 --port 5000

# The job consumer alone (mail delivery, periodic tasks), e.g. beside `flask run` in another terminal.
jobs: setup migrate
	$(CONSUMER)

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
	$(PY) benchmarks/attendance.py
	$(PY) benchmarks/exams.py
	$(PY) benchmarks/boards.py
	$(PY) benchmarks/search.py

lint: setup
	$(VENV)/bin/ruff check portal tests

clean:
	rm -rf $(VENV) node_modules static/vendor
