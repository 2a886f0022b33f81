import time
from datetime import date

from django.core.management.base import BaseCommand, CommandParser, OutputWrapper

from apps.flights.demo import demo_data_load


class FlightsMeter:
    """Shows how many flights are in: one line rewritten in place on a terminal, a line per quarter
    in a log (CI, a pipe)."""

    def __init__(self, out: OutputWrapper):
        self.out = out
        self.interactive = out.isatty()
        self.started = time.monotonic()
        self.shown_quarter = 0

    def __call__(self, added: int, missing: int) -> None:
        quarter = 4 * added // missing
        line = f"Flights: {added}/{missing} added ({100 * added // missing}%, {self.elapsed()})"
        if self.interactive:
            self.out.write(f"\r{line}", ending="\n" if added == missing else "")
            self.out.flush()
        elif quarter > self.shown_quarter:
            self.shown_quarter = quarter
            self.out.write(line)

    def elapsed(self) -> str:
        return f"{time.monotonic() - self.started:.1f} s"


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
        self.stdout.write(f"Loading the demo catalogue: {days} days of flights from {start_date or 'today'}.")
        meter = FlightsMeter(self.stdout)
        result = demo_data_load(days=days, start=start_date, progress=self.stdout.write, flights_added=meter)
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo data loaded in {meter.elapsed()}: {result.cities} cities, {result.airports} airports, "
                f"{result.airplanes} airplanes and {result.flights} flights added."
            )
        )
