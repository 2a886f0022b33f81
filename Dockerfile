FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 DJANGO_SETTINGS_MODULE=airline.settings.production
RUN apt-get update \
    && apt-get install -y --no-install-recommends build-essential pkg-config libmariadb-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
RUN DJANGO_SECRET_KEY=collectstatic DATABASE_URL=sqlite:////tmp/x.sqlite3 REDIS_URL=redis://x \
    CELERY_BROKER_URL=memory:// ALLOW_SIMULATED_GATEWAY=true python manage.py collectstatic --noinput
RUN useradd --create-home airline && chown -R airline /app
USER airline
EXPOSE 8000
CMD ["gunicorn", "-c", "gunicorn.conf.py", "airline.wsgi:application"]
