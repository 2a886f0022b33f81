from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "apps.payments"
    label = "payments"

    def ready(self) -> None:
        from apps.bookings.selectors import register_money_reader
        from apps.bookings.services import register_refund_handler, register_refund_reserver
        from apps.payments.selectors import bookings_money_records
        from apps.payments.services.refunds import (
            payment_refund_for_booking,
            payment_refund_reserve_for_booking,
        )

        # Bookings must not import payments: cancelling a confirmed booking decides its refund and
        # makes it through these, and the traveller's pages say what was charged and refunded through
        # the reader.
        register_refund_reserver(payment_refund_reserve_for_booking)
        register_refund_handler(payment_refund_for_booking)
        register_money_reader(bookings_money_records)
