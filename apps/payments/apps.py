from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "apps.payments"
    label = "payments"

    def ready(self) -> None:
        from apps.bookings.services import register_refund_handler
        from apps.payments.services import payment_refund_for_booking

        # Bookings must not import payments: cancelling a confirmed booking refunds through this.
        register_refund_handler(payment_refund_for_booking)
