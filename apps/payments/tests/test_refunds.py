import pytest

from apps.accounts.tests.factories import with_permissions
from apps.bookings.models import Booking
from apps.bookings.services import booking_cancel
from apps.core.exceptions import PermissionDenied
from apps.payments.exceptions import PaymentNotRefundable
from apps.payments.gateway import GatewayTimeout, SimulatedGateway
from apps.payments.models import GatewayCharge, Payment, Refund
from apps.payments.services import payment_refund, payment_refund_for_booking
from apps.payments.tests.factories import held_booking, payment_body

pytestmark = pytest.mark.django_db


@pytest.fixture
def paid_booking(customer, customer_client):
    booking = held_booking(owner=customer, passengers=2)
    response = customer_client.post(
        "/api/v1/payments", payment_body(booking), format="json", HTTP_IDEMPOTENCY_KEY="k1"
    )
    assert response.status_code == 201
    booking.refresh_from_db()
    return booking


def assert_refunded(booking: Booking) -> None:
    payment = Payment.objects.get(booking=booking)
    assert payment.status == Payment.Status.REFUNDED
    refund = Refund.objects.get(payment=payment)
    assert (refund.amount, refund.currency) == (payment.amount, payment.currency)
    assert refund.gateway_reference
    assert GatewayCharge.objects.get().status == GatewayCharge.Status.REFUNDED


def test_cancelling_a_confirmed_booking_refunds_it_through_the_gateway(customer, paid_booking):
    # when the owner cancels a confirmed booking
    booking_cancel(booking=paid_booking, actor=customer)

    # then the charge is refunded once and recorded, and the seats go back
    assert_refunded(paid_booking)
    paid_booking.refresh_from_db()
    assert paid_booking.status == Booking.Status.CANCELLED
    flight = paid_booking.flight
    assert flight.available_seats == flight.total_seats


def test_the_refund_handler_is_idempotent(paid_booking):
    assert payment_refund_for_booking(paid_booking) is True
    assert payment_refund_for_booking(paid_booking) is True

    assert Refund.objects.count() == 1
    assert_refunded(paid_booking)


def test_the_refund_handler_has_nothing_to_refund_for_an_unpaid_booking(customer):
    booking = held_booking(owner=customer)

    assert payment_refund_for_booking(booking) is False
    assert not Refund.objects.exists()


def test_staff_refund_cancels_the_booking_and_refunds(staff_user, paid_booking):
    payment = Payment.objects.get(booking=paid_booking)

    refunded = payment_refund(payment=payment, actor=staff_user)

    assert refunded.status == Payment.Status.REFUNDED
    assert_refunded(paid_booking)
    paid_booking.refresh_from_db()
    assert paid_booking.status == Booking.Status.CANCELLED


def test_customers_cannot_use_the_staff_refund(customer, paid_booking):
    payment = Payment.objects.get(booking=paid_booking)

    with pytest.raises(PermissionDenied):
        payment_refund(payment=payment, actor=customer)

    assert not Refund.objects.exists()
    assert GatewayCharge.objects.get().status == GatewayCharge.Status.SUCCEEDED


@pytest.mark.parametrize(
    "granted",
    [(), ("payments.view_payment", "bookings.view_booking", "bookings.change_booking")],
    ids=["no permission", "all but refund_payment"],
)
def test_staff_without_the_permissions_cannot_refund(bare_staff_user, paid_booking, granted):
    # given a confirmed booking's payment, and a staff user with no permission, or who may look at
    # payments and change bookings but not refund: refunding needs payments.refund_payment (as the
    # admin's refund action does)
    payment = Payment.objects.get(booking=paid_booking)
    actor = with_permissions(bare_staff_user, *granted)

    # when they refund it, then they are refused
    with pytest.raises(PermissionDenied):
        payment_refund(payment=payment, actor=actor)

    # and nothing is refunded or cancelled
    assert not Refund.objects.exists()
    assert GatewayCharge.objects.get().status == GatewayCharge.Status.SUCCEEDED
    assert Payment.objects.get(pk=payment.pk).status == Payment.Status.SUCCEEDED
    assert Booking.objects.get(pk=paid_booking.pk).status == Booking.Status.CONFIRMED


def test_a_declined_payment_cannot_be_refunded(staff_user, customer, customer_client):
    booking = held_booking(owner=customer)
    customer_client.post(
        "/api/v1/payments",
        payment_body(booking, token="tok_chargeDeclined"),
        format="json",
        HTTP_IDEMPOTENCY_KEY="k1",
    )

    with pytest.raises(PaymentNotRefundable):
        payment_refund(payment=Payment.objects.get(), actor=staff_user)
    assert not Refund.objects.exists()


def test_admin_refund_action(client, staff_user, paid_booking):
    # given staff signed in to the admin
    client.force_login(staff_user)
    payment = Payment.objects.get(booking=paid_booking)

    # when they run the refund action on the payment
    response = client.post(
        "/admin/payments/payment/",
        {"action": "refund_selected", "_selected_action": [payment.pk]},
        follow=True,
    )

    # then it is refunded and the booking cancelled
    assert response.status_code == 200
    assert_refunded(paid_booking)
    paid_booking.refresh_from_db()
    assert paid_booking.status == Booking.Status.CANCELLED


def test_the_admin_offers_the_refund_action_only_with_refund_payment(client, bare_staff_user, paid_booking):
    # given staff who may see payments in the admin and change bookings, but not refund
    actor = with_permissions(bare_staff_user, "payments.view_payment", "bookings.change_booking")
    client.force_login(actor)
    payment = Payment.objects.get(booking=paid_booking)

    # then the changelist does not offer the action, and posting it anyway refunds nothing
    assert "refund_selected" not in client.get("/admin/payments/payment/").content.decode()
    client.post("/admin/payments/payment/", {"action": "refund_selected", "_selected_action": [payment.pk]})
    assert not Refund.objects.exists()
    assert Booking.objects.get(pk=paid_booking.pk).status == Booking.Status.CONFIRMED

    # when they are granted payments.refund_payment, the action is offered
    actor = with_permissions(actor, "payments.refund_payment")
    assert "refund_selected" in client.get("/admin/payments/payment/").content.decode()


def test_admin_pages_are_read_only(admin_client, paid_booking):
    payment = Payment.objects.get(booking=paid_booking)

    for url in [
        "/admin/payments/payment/",
        f"/admin/payments/payment/{payment.pk}/change/",
        "/admin/payments/refund/",
        "/admin/payments/gatewaycharge/",
        "/admin/core/idempotencykey/",
    ]:
        assert admin_client.get(url).status_code == 200, url
    assert admin_client.get("/admin/payments/payment/add/").status_code == 403
    assert admin_client.get("/admin/core/idempotencykey/add/").status_code == 403


class RefundAnswerLostOnceGateway(SimulatedGateway):
    """The first refund goes through at the gateway but its answer is lost (a timeout)."""

    calls = 0

    def refund(self, **kwargs):
        type(self).calls += 1
        result = super().refund(**kwargs)
        if type(self).calls == 1:
            raise GatewayTimeout("refund answer lost")
        return result


def test_a_refund_whose_answer_timed_out_is_asked_again_and_the_cancel_completes(
    settings, customer, paid_booking
):
    settings.PAYMENT_GATEWAY = "apps.payments.tests.test_refunds.RefundAnswerLostOnceGateway"
    RefundAnswerLostOnceGateway.calls = 0

    # when the owner cancels and the gateway's refund answer is lost once
    booking_cancel(booking=paid_booking, actor=customer)

    # then the same refund key is asked again, the money went back once and the booking is cancelled
    assert RefundAnswerLostOnceGateway.calls == 2
    assert Refund.objects.count() == 1
    assert_refunded(paid_booking)
    paid_booking.refresh_from_db()
    assert paid_booking.status == Booking.Status.CANCELLED
