import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "airline.settings.local")

app = Celery("airline")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# Every worker runs the outbox relay (apps/notifications/relay.py): it queues new emails' send tasks.
app.steps["worker"].add("apps.notifications.relay:OutboxRelay")
