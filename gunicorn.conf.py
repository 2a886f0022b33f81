"""gunicorn's configuration for the benchmark's server variants (`make bench-servers`, bench/server.py).

Production runs granian (airline/serve.py), which measured faster; this file keeps gunicorn's shapes
comparable: `gunicorn -c gunicorn.conf.py airline.wsgi:application`. Each value can be overridden by an
environment variable (GUNICORN_BIND, GUNICORN_WORKERS, GUNICORN_THREADS, GUNICORN_WORKER_CLASS,
GUNICORN_KEEPALIVE), so the benchmark can compare server configurations without editing this file.
"""

import os

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", "3"))
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "gthread")
# Clients and proxies reuse their connection between requests (gthread keeps it; sync closes it).
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "5"))
backlog = 2048
timeout = 60
graceful_timeout = 5
