# airflow-robust: `make demo` and `make test` work on a fresh machine with only Python 3 and make.
SHELL := /bin/bash
.SHELLFLAGS := -eo pipefail -c
PYTHON ?= python3
UV_VERSION := 0.13.8
VENV := .venv
BIN := $(VENV)/bin
UV := .uv/bin/uv
AIRFLOW_HOME_DIR := $(CURDIR)/.airflow
MLFLOW_DIR := $(AIRFLOW_HOME_DIR)/mlflow
export AIRFLOW_HOME ?= $(AIRFLOW_HOME_DIR)
export AIRFLOW__CORE__DAGS_FOLDER ?= $(CURDIR)/dags
export AIRFLOW__CORE__LOAD_EXAMPLES ?= False
PYTEST_ARGS ?=

.PHONY: help venv demo test check docs browser jre lint typecheck pytest ui airflow-ui bench lock clean

help:
	@echo "make demo   - create .venv, install from uv.lock, run the example DAG end to end"
	@echo "make test   - lint (ruff), type check (mypy), whole test suite (pytest)"
	@echo "make check  - lint, type check and the fast tests (domain logic, house rules): about a minute"
	@echo "make ui     - MLflow UI on http://127.0.0.1:5000 for the demo's tracking store"
	@echo "make airflow-ui - Airflow (standalone) on http://127.0.0.1:8080 with the demo's DAGs"
	@echo "make docs   - build the documentation site (docs/, one page per operator) into .site/"
	@echo "make bench  - run the benchmarks in bench/"

$(UV):
	$(PYTHON) -m venv .uv
	.uv/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

# The environment is (re)built from the lock file whenever the lock or pyproject changes.
$(VENV)/.installed: uv.lock pyproject.toml | $(UV)
	UV_PROJECT_ENVIRONMENT=$(VENV) $(UV) sync --frozen --all-extras --python $(PYTHON)
	touch $@

venv: $(VENV)/.installed

lock: | $(UV)
	$(UV) lock

demo: venv
	@mkdir -p $(AIRFLOW_HOME)
	$(BIN)/airflow db migrate > $(AIRFLOW_HOME)/db-migrate.log 2>&1 || (cat $(AIRFLOW_HOME)/db-migrate.log; exit 1)
	$(BIN)/airflow dags test robust_promotion_auto 2>&1 | tee $(AIRFLOW_HOME)/demo.log | $(BIN)/python scripts/demo_filter.py
	@$(BIN)/python scripts/demo_summary.py

test: venv browser jre
	$(MAKE) lint typecheck pytest

# The browser test drives Debian's Chromium (never a downloaded browser: no `playwright install`).
browser:
	@if [ ! -x /usr/bin/chromium ]; then \
	  echo "Installing Debian's chromium for the browser test"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get install -y --no-install-recommends chromium >/dev/null 2>&1 || \
	  ( $$SUDO apt-get update >/dev/null && $$SUDO apt-get install -y --no-install-recommends chromium >/dev/null ); \
	fi

# The Spark tests need a Java runtime: Debian's, like the browser (pyspark comes from uv.lock).
jre:
	@if ! command -v java >/dev/null 2>&1; then \
	  echo "Installing Debian's default-jre-headless for the Spark tests"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get install -y --no-install-recommends default-jre-headless >/dev/null 2>&1 || \
	  ( $$SUDO apt-get update >/dev/null && $$SUDO apt-get install -y --no-install-recommends default-jre-headless >/dev/null ); \
	fi

lint: venv
	$(BIN)/ruff check airflow_robust tests dags bench scripts
	$(BIN)/ruff format --check airflow_robust tests dags bench scripts

typecheck: venv
	$(BIN)/mypy

# Two workers (this machine has 2 cores; the integration stack mostly waits on its processes).
# tests/conftest.py schedules whole files per worker, and every test of the shared services on one.
PYTEST_WORKERS ?= 2
pytest: venv
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

# The inner loop: no services, no browser, no Airflow DAG runs; `make test` stays what CI runs.
FAST_TESTS := tests/unit tests/test_layers.py tests/test_parse_cost.py tests/test_readme.py tests/test_parameter_docs.py
check: venv
	$(MAKE) lint typecheck
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) -m "not slow" $(FAST_TESTS) $(PYTEST_ARGS)

docs: venv
	$(BIN)/mkdocs build --strict

ui: venv
	@mkdir -p $(MLFLOW_DIR)/artifacts
	@echo "MLflow UI: http://127.0.0.1:5000  (Ctrl-C to stop)"
	$(BIN)/mlflow ui --backend-store-uri sqlite:///$(MLFLOW_DIR)/mlflow.db \
	  --default-artifact-root file://$(MLFLOW_DIR)/artifacts --host 127.0.0.1 --port 5000

airflow-ui: venv
	@echo "Airflow UI: http://127.0.0.1:8080  (the admin password is printed below and in $(AIRFLOW_HOME)/simple_auth_manager_passwords.json.generated)"
	$(BIN)/airflow standalone

# Evidently 0.7.23 does not import with pandas 3: the drift bench runs it from an interpreter of its own.
BENCH_EVIDENTLY := .bench/evidently
$(BENCH_EVIDENTLY)/bin/python: | $(UV)
	$(UV) venv -q --python $(PYTHON) $(BENCH_EVIDENTLY)
	$(UV) pip install -q --python $(BENCH_EVIDENTLY)/bin/python "evidently==0.7.23" "pandas>=2.2,<3" "pyarrow>=16"

AIRFLOW_ROBUST_BENCH_PG ?= postgresql+psycopg2://postgres@127.0.0.1:5432/postgres
bench: venv $(BENCH_EVIDENTLY)/bin/python
	$(BIN)/python bench/parse_cost.py
	$(BIN)/python bench/task_start.py
	AIRFLOW_ROBUST_BENCH_PG=$(AIRFLOW_ROBUST_BENCH_PG) $(BIN)/python bench/drift.py

clean:
	rm -rf $(VENV) .uv .bench .site $(AIRFLOW_HOME_DIR) .pytest_cache .mypy_cache .ruff_cache
