from datetime import date

from django.core.management.base import BaseCommand, CommandParser

from apps.flights.demo import demo_data_load


class Command(BaseCommand):
    help = (
        "Load real airports (airportsdata), a fleet with realistic seat layouts and a schedule of "
        "flights for the coming days. Idempotent: a second run adds nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--days", type=int, default=30, help="Days of schedule to load (default 30).")
        parser.add_argument(
            "--start-date",
            type=date.fromisoformat,
            default=None,
            help="First local date of the schedule, YYYY-MM-DD (default: today, UTC).",
        )

    def handle(self, *args, days: int, start_date: date | None, **options) -> None:
        result = demo_data_load(days=days, start=start_date, progress=self.stdout.write)
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo data loaded: {result.cities} cities, {result.airports} airports, "
                f"{result.airplanes} airplanes and {result.flights} flights added."
            )
        )
