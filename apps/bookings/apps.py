from django.apps import AppConfig


class BookingsConfig(AppConfig):
    name = "apps.bookings"
    label = "bookings"

    def ready(self) -> None:
        from apps.bookings.services.cancellation import on_flight_cancelled
        from apps.flights.events import flight_cancelled

        # A flight the airline cancels takes its bookings with it (cancelled, refunded, passengers told).
        flight_cancelled.subscribe(on_flight_cancelled)
