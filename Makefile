# Airline — the two commands of the quick start are `make run` and `make test`.
VENV ?= .venv
PY := $(VENV)/bin/python
RUN_HOST ?= 127.0.0.1
RUN_PORT ?= 8000
DEMO_DATA_ARGS ?=

.PHONY: venv run test lint format bench bench-servers

venv: $(VENV)/.installed

# mysqlclient compiles against libmariadb-dev; the embedded default does not need it, so a machine
# without the headers still gets everything else and `make run` works with Python alone. The marker
# is written only after a complete install, so the next make tries mysqlclient again.
$(VENV)/.installed: requirements.txt
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	if $(PY) -m pip install -q -r requirements.txt; then touch $@; else \
	  echo "mysqlclient could not be built (install libmariadb-dev, pkg-config and a C compiler for the"; \
	  echo "services mode); installing the rest for the embedded default."; \
	  grep -v '^mysqlclient' requirements.txt > $(VENV)/requirements-embedded.txt; \
	  $(PY) -m pip install -q -r $(VENV)/requirements-embedded.txt; fi

# The embedded default: SQLite, local-memory cache, a filesystem broker, a real Celery worker and
# beat. Ctrl-C stops all three processes.
run: venv
	$(PY) manage.py migrate --noinput
	$(PY) manage.py setup_beat
	$(PY) manage.py load_demo_data $(DEMO_DATA_ARGS)
	$(PY) manage.py create_demo_users
	@echo "Airline: http://$(RUN_HOST):$(RUN_PORT)/  (API docs: /api/docs/, admin: /admin/)"
	@bash -c 'trap "trap - INT TERM EXIT; kill 0" INT TERM EXIT; \
	  $(VENV)/bin/celery -A airline worker -l warning --pool=solo & \
	  $(VENV)/bin/celery -A airline beat -l warning & \
	  $(PY) manage.py runserver $(RUN_HOST):$(RUN_PORT) & \
	  wait'

# The whole suite against MariaDB, Redis and RabbitMQ on localhost (override with DATABASE_URL,
# REDIS_URL, CELERY_BROKER_URL). Stops at once, naming the service, if one is unreachable.
test: venv
	@$(PY) -c "import MySQLdb" 2>/dev/null || { echo "mysqlclient is not installed: install libmariadb-dev,"\
	  "pkg-config and a C compiler, then run make test again."; exit 2; }
	$(VENV)/bin/pytest

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: venv
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

# Load through the production server (gunicorn.conf.py) over loopback on its own database
# (airline_bench), Redis db 8 and queue, driven by wrk (Debian's package); prints the report and
# writes bench/results/<name>.json, .md and a chart per scenario in bench/results/<name>/.
# BENCH_QUICK=1: a 1–2 minute smoke. Every BENCH_* variable is described in bench/run.py; how to read
# the report: docs/BENCHMARK.md.
bench: venv
	@command -v wrk >/dev/null || { echo "wrk is not installed: apt-get install wrk"; exit 2; }
	$(PY) -m bench.run

# The same, plus the server variants of BENCH_SERVERS on the key scenarios (about 40 s each per run
# at the default clients), to choose gunicorn.conf.py's values from measurements.
BENCH_SERVERS ?= gthread:2x8,gthread:6x2,sync:4,sync:6,granian:3x4
bench-servers: venv
	@command -v wrk >/dev/null || { echo "wrk is not installed: apt-get install wrk"; exit 2; }
	BENCH_SERVERS=$(BENCH_SERVERS) $(PY) -m bench.run
