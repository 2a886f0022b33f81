# Airline — the two commands of the quick start are `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
BOOTSTRAP := $(PYTHON) scripts/bootstrap.py
RUN_HOST ?= 127.0.0.1
RUN_PORT ?= 8000
DEMO_DATA_ARGS ?=

.PHONY: venv run test lint format bench bench-servers bench-replica bench-capacity

# Each command checks its prerequisites first and says in one line what is missing and how to get
# it (scripts/bootstrap.py): python3 itself, Python 3.11+, venv support, the port, the services.
define check_python
@command -v $(PYTHON) >/dev/null 2>&1 || { echo "$(PYTHON) was not found: install Python 3.11 or newer" \
  "(Debian: apt-get install python3 python3-venv), or name it with PYTHON=python3.12."; exit 2; }
@$(BOOTSTRAP) python
endef

# Creates .venv (or replaces one made by an older Python) and installs requirements.txt; does nothing
# when nothing changed. Without MariaDB's headers mysqlclient is skipped with one line: the embedded
# default does not need it.
venv:
	$(check_python)
	@$(BOOTSTRAP) venv $(VENV)

# The embedded default: SQLite, local-memory cache, a filesystem broker, a real Celery worker and
# beat, mail kept in var/mail/ and shown at /dev/mail/. With DATABASE_URL, REDIS_URL and
# CELERY_BROKER_URL set, the same on the services. The one worker consumes every queue (e-mail,
# payments, housekeeping and the default: airline/queues.py); production runs a worker pool per
# queue (docs/SCALING.md, "Queues that scale apart"). Ctrl-C stops all three processes.
run:
	$(check_python)
	@$(BOOTSTRAP) port $(RUN_HOST) $(RUN_PORT)
	@$(BOOTSTRAP) venv $(VENV)
	@$(PY) manage.py preflight
	$(PY) manage.py migrate --noinput
	$(PY) manage.py setup_beat
	$(PY) manage.py load_demo_data $(DEMO_DATA_ARGS)
	$(PY) manage.py create_demo_users
	@$(PY) manage.py devserver --host $(RUN_HOST) --port $(RUN_PORT)

# The whole suite against MariaDB, Redis and RabbitMQ on localhost (override with DATABASE_URL,
# REDIS_URL, CELERY_BROKER_URL). Stops at once, naming the service, if one is unreachable
# (conftest.py). PYTEST_ADDOPTS passes options to pytest. The browser tests check each page with
# axe-core: `npm ci` installs it from package-lock.json when node_modules is missing or outdated.
test:
	$(check_python)
	@$(BOOTSTRAP) venv $(VENV)
	@$(BOOTSTRAP) require-mysqlclient $(VENV)
	@$(BOOTSTRAP) node-modules
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
# the report: docs/BENCHMARK.md. Then, in the same invocation, search on a read replica while booking
# on the primary (bench/replica.py, about a minute more: a MariaDB primary and replica of its own);
# its report is bench/results/<name>-replica.md. Either one failing a check fails `make bench`.
bench: venv
	@command -v wrk >/dev/null || { echo "wrk is not installed: apt-get install wrk"; exit 2; }
	@name=$${BENCH_NAME:-$$(case "$$BENCH_QUICK" in ""|0|false) echo bench;; *) echo quick;; esac)-$$(date -u +%Y%m%d-%H%M%S)}; \
	BENCH_NAME=$$name $(PY) -m bench.run; status=$$?; \
	BENCH_NAME=$$name-replica $(PY) -m bench.replica || status=1; \
	exit $$status

# Only the replica scenario of `make bench` (bench/replica.py).
bench-replica: venv
	@command -v wrk >/dev/null || { echo "wrk is not installed: apt-get install wrk"; exit 2; }
	$(PY) -m bench.replica

# How many web cores one primary carries: CPU per booking of the web server and of mariadbd, and the
# one-row ceiling (bench/capacity.py, about 2 minutes; docs/SCALING.md reads bench/results/capacity.md).
bench-capacity: venv
	@command -v wrk >/dev/null || { echo "wrk is not installed: apt-get install wrk"; exit 2; }
	$(PY) -m bench.capacity

# The same, plus the server variants of BENCH_SERVERS on the key scenarios (about 40 s each per run
# at the default clients), to choose gunicorn.conf.py's values from measurements.
BENCH_SERVERS ?= gthread:3x4,gthread:2x8,sync:4,sync:6,granian:6x2
bench-servers: venv
	@command -v wrk >/dev/null || { echo "wrk is not installed: apt-get install wrk"; exit 2; }
	BENCH_SERVERS=$(BENCH_SERVERS) $(PY) -m bench.run
