# Two commands a newcomer needs: `make run` and `make test` (see README.md).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
export FLASK_APP := marketplace:create_app
# The site's public address, on which every link in mails, QR codes and PDFs is built: by
# default the address `make run` serves (PORT=8000 make run gives working links on 8000).
ifeq ($(strip $(SERVER_BASE_URL)),)
SERVER_BASE_URL := http://127.0.0.1:$(PORT)
endif
export SERVER_BASE_URL

.PHONY: run test install install-dev translations lint worker two-nodes db-upgrade clean bench

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed translations
install-dev: $(VENV)/.installed-dev translations

translations: $(VENV)/.installed
	@$(BIN)/pybabel compile -d translations 2>&1 | grep -v "^compiling catalog"; test $${PIPESTATUS[0]} -eq 0

run: install
	@mkdir -p instance
	$(BIN)/flask db upgrade
	$(BIN)/flask seed-demo --if-empty
	@echo
	@echo "ESS Marché (development): $(SERVER_BASE_URL)/"
	@echo "Mails (nothing is sent):  $(SERVER_BASE_URL)/dev/outbox"
	@echo
	$(BIN)/flask run --host 127.0.0.1 --port $(PORT)

test: install-dev
	$(BIN)/pytest $(PYTEST_ARGS)

lint: install-dev
	$(BIN)/ruff check marketplace tests config bench deploy gunicorn.conf.py
	$(BIN)/lint-imports

worker: install
	@mkdir -p instance
	$(BIN)/celery -A marketplace.worker:celery worker --beat --schedule instance/celerybeat-schedule --loglevel INFO

# Two gunicorn nodes behind HAProxy (deploy/haproxy.cfg) on PostgreSQL and Redis, with the demo
# data: https://127.0.0.1:8443 until Ctrl-C (docs/deploy.md, "Scaling out").
two-nodes: install
	$(BIN)/python deploy/two_nodes.py

clean:
	rm -rf $(VENV) instance

# The benchmarks of issue 16 (bench/run_all.py): the public catalogue under wrk with the page
# cache off and on, next to a bare Flask app serving the same bytes, then the write paths;
# writes bench/RESULTS.md. Needs PostgreSQL on 127.0.0.1, Redis and wrk (apt-get install wrk).
# BENCH_ARGS=--quick for a short run.
bench: install
	$(BIN)/python bench/run_all.py $(BENCH_ARGS)
