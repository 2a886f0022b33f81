from django.core.management.base import BaseCommand

from apps.notifications.schedule import PERIODIC_JOBS, periodic_tasks_sync


class Command(BaseCommand):
    help = "Create the periodic tasks declared in apps/notifications/schedule.py (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--reset",
            action="store_true",
            help="Also restore the declared task, schedule and enabled flag of existing jobs.",
        )

    def handle(self, *args, reset: bool = False, **options):
        created = periodic_tasks_sync(reset=reset)
        kept = len(PERIODIC_JOBS) - len(created)
        self.stdout.write(
            f"Periodic tasks: {len(created)} created ({', '.join(created) or 'none'}), "
            f"{kept} already present{' and reset' if reset else ''}."
        )
