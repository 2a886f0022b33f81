from django.core.management.base import BaseCommand

from apps.core.preflight import missing_database_driver, unreachable_services


class Command(BaseCommand):
    help = (
        "Check that the configured services (MariaDB, Redis, RabbitMQ) can be reached, before `make run` "
        "migrates: one line naming each that cannot, and exit status 2."
    )
    requires_system_checks: list[str] = []

    def handle(self, *args, **options) -> None:
        problems = [problem for problem in [missing_database_driver()] if problem] or unreachable_services()
        if problems:
            self.stderr.write(
                f"Cannot start: {'; '.join(problems)}. Start it or correct its URL; with none of "
                "DATABASE_URL, REDIS_URL and CELERY_BROKER_URL set, make run needs no service."
            )
            raise SystemExit(2)
