# The production image: granian (airline/serve.py) with production settings, as a non-root user,
# with a health check. Two stages: `build` compiles requirements/runtime.txt into a virtualenv
# (mysqlclient needs a compiler and MariaDB's headers); the final stage copies that virtualenv and
# has neither the compilers nor the development and test tools (requirements/dev.txt).
FROM python:3.11-slim-bookworm AS build
RUN apt-get update \
    && apt-get install -y --no-install-recommends build-essential pkg-config libmariadb-dev \
    && rm -rf /var/lib/apt/lists/*
COPY requirements/runtime.txt /tmp/runtime.txt
RUN python -m venv /opt/venv \
    && /opt/venv/bin/pip install --no-cache-dir --disable-pip-version-check -r /tmp/runtime.txt

FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PATH=/opt/venv/bin:$PATH \
    DJANGO_SETTINGS_MODULE=airline.settings.production
# libmariadb3: the client library mysqlclient was built against. /var/lib/airline is the app user's
# own folder (compose keeps the generated secret key there, in a volume).
RUN apt-get update \
    && apt-get install -y --no-install-recommends libmariadb3 \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --create-home --uid 10001 --shell /usr/sbin/nologin airline \
    && install -d -o airline -g airline -m 700 /var/lib/airline
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
# The code and the collected static files belong to root: the app user can read them, not change them.
COPY . .
RUN DJANGO_SECRET_KEY=collectstatic DATABASE_URL=sqlite:////tmp/x.sqlite3 REDIS_URL=redis://x \
    CELERY_BROKER_URL=memory:// ALLOW_SIMULATED_GATEWAY=true python manage.py collectstatic --noinput
USER airline
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=10s --start-period=30s --retries=3 CMD ["python", "docker/healthcheck.py"]
CMD ["python", "-m", "airline.serve"]
