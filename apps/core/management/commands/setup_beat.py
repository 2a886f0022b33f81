from django.core.management.base import BaseCommand

from apps.core.periodic import periodic_jobs, periodic_tasks_sync


class Command(BaseCommand):
    help = "Create the beat rows of every app's declared periodic jobs (apps/core/periodic.py); idempotent."

    def add_arguments(self, parser):
        parser.add_argument(
            "--reset",
            action="store_true",
            help="Also restore the declared task, schedule and enabled flag of existing jobs.",
        )

    def handle(self, *args, reset: bool = False, **options):
        created = periodic_tasks_sync(reset=reset)
        kept = len(periodic_jobs()) - len(created)
        self.stdout.write(
            f"Periodic tasks: {len(created)} created ({', '.join(created) or 'none'}), "
            f"{kept} already present{' and reset' if reset else ''}."
        )
