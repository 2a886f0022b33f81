"""Creates the beat rows of every declared periodic job (apps/core/periodic.py; idempotent)."""

from django.db import migrations


def create_periodic_tasks(apps, schema_editor):
    from apps.core.periodic import periodic_tasks_sync

    periodic_tasks_sync(app_registry=apps)


class Migration(migrations.Migration):

    dependencies = [
        ("notifications", "0002_notification_sending_status"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [
        # Reversing leaves the jobs in place: staff may have edited them, and they are harmless.
        migrations.RunPython(create_periodic_tasks, migrations.RunPython.noop),
    ]
