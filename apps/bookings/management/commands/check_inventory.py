from django.core.management.base import BaseCommand, CommandError

from apps.bookings.selectors import inventory_violations


class Command(BaseCommand):
    help = (
        "Check available_seats == total_seats − active seat assignments, and the marks of taken seats, "
        "for every flight."
    )

    def handle(self, *args, **options) -> None:
        violations = inventory_violations()
        for violation in violations:
            self.stderr.write(
                f"flight {violation.flight_id} {violation.flight_number}: available_seats="
                f"{violation.available_seats}, expected {violation.expected_available} "
                f"(total {violation.total_seats}, active assignments {violation.active_assignments})"
                + (
                    f"; seats marked wrongly: {', '.join(violation.seats_mismarked)}"
                    if violation.seats_mismarked
                    else ""
                )
            )
        if violations:
            raise CommandError(f"{len(violations)} flight(s) break the seat inventory invariant.")
        self.stdout.write(self.style.SUCCESS("Seat inventory consistent on every flight."))
