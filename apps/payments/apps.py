from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "apps.payments"
    label = "payments"

    def ready(self) -> None:
        from apps.bookings.selectors import register_money_reader
        from apps.bookings.services import register_refund_handler
        from apps.payments.selectors import bookings_money_records
        from apps.payments.services import payment_refund_for_booking

        # Bookings must not import payments: cancelling a confirmed booking refunds through this, and
        # the traveller's pages say what was charged and refunded through the reader.
        register_refund_handler(payment_refund_for_booking)
        register_money_reader(bookings_money_records)
