"""Staff see the outbox in the admin, filter and search it, and resend emails."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone

from apps.accounts.tests.factories import UserFactory
from apps.bookings import events
from apps.core.testing.admin import changelist_queries
from apps.notifications.models import Notification
from apps.notifications.services import notifications_claim_unqueued
from apps.notifications.tests.support import booking_make, payment_make, receipt_of

pytestmark = pytest.mark.django_db

Status = Notification.Status
CHANGELIST = reverse("admin:notifications_notification_changelist")


@pytest.fixture
def outbox() -> tuple[Notification, Notification]:
    booking = booking_make()
    events.booking_confirmed.publish(
        events.BookingConfirmed(booking=booking, receipt=receipt_of(payment_make(booking)))
    )
    ticket = Notification.objects.get(kind=Notification.Kind.BOOKING_CONFIRMED)
    receipt = Notification.objects.get(kind=Notification.Kind.PAYMENT_RECEIPT)
    Notification.objects.filter(pk=receipt.pk).update(status=Status.FAILED, attempts=5, last_error="550 no")
    return ticket, receipt


def test_the_outbox_list_filters_by_status_and_searches_by_booking_reference(admin_client, outbox):
    ticket, receipt = outbox
    other = booking_make(passengers=(("Other", "Person", "1A"),))
    events.booking_held.publish(events.BookingHeld(booking=other))

    failed = admin_client.get(CHANGELIST, {"status__exact": Status.FAILED})
    by_reference = admin_client.get(CHANGELIST, {"q": ticket.booking.reference})

    assert failed.status_code == 200
    assert [n.pk for n in failed.context["cl"].result_list] == [receipt.pk]
    assert sorted(n.pk for n in by_reference.context["cl"].result_list) == sorted([ticket.pk, receipt.pk])


def test_the_detail_page_shows_the_email_read_only_with_its_html_in_a_sandboxed_frame(admin_client, outbox):
    ticket, _ = outbox
    Notification.objects.filter(pk=ticket.pk).update(status=Status.SENT, sent_at=timezone.now())
    html_url = reverse("admin:notifications_notification_html", args=[ticket.pk])

    response = admin_client.get(reverse("admin:notifications_notification_change", args=[ticket.pk]))

    assert response.status_code == 200
    page = response.content.decode()
    assert f'sandbox src="{html_url}"' in page
    assert "srcdoc" not in page
    assert ticket.booking.reference in page
    assert 'name="subject"' not in page  # no editable fields
    assert 'name="_save"' not in page  # nothing to save
    assert "deletelink" not in page  # and nothing to delete, superusers included


def test_the_email_html_is_served_under_a_sandboxed_policy_of_its_own(admin_client, outbox):
    ticket, _ = outbox

    response = admin_client.get(reverse("admin:notifications_notification_html", args=[ticket.pk]))

    assert response.status_code == 200
    assert response.content.decode() == ticket.body_html
    policy = response["Content-Security-Policy"]
    assert "sandbox" in policy
    assert "default-src 'none'" in policy
    assert "style-src 'unsafe-inline'" in policy
    assert "script-src" not in policy  # no script at all: default-src 'none'
    assert "frame-ancestors 'self'" in policy
    assert response["X-Frame-Options"] == "SAMEORIGIN"


def test_the_admin_page_around_the_email_keeps_the_sites_policy(admin_client, outbox):
    ticket, _ = outbox

    response = admin_client.get(reverse("admin:notifications_notification_change", args=[ticket.pk]))

    policy = response["Content-Security-Policy"]
    assert "'unsafe-inline'" not in policy
    assert "frame-ancestors 'none'" in policy
    assert response["X-Frame-Options"] == "DENY"


def test_customers_and_staff_without_the_view_permission_cannot_read_an_emails_html(client, outbox):
    ticket, _ = outbox
    url = reverse("admin:notifications_notification_html", args=[ticket.pk])
    bare = UserFactory(is_staff=True)
    bare.groups.clear()

    anonymous = client.get(url)
    client.force_login(bare)
    refused = client.get(url)

    assert anonymous.status_code == 302  # to the admin's sign-in
    assert refused.status_code == 403
    assert ticket.body_html not in refused.content.decode()


def test_the_resend_action_puts_failed_emails_back_in_the_outbox_for_the_relay(admin_client, outbox):
    ticket, receipt = outbox
    Notification.objects.update(queued_at=timezone.now())  # both were queued once
    Notification.objects.filter(pk=ticket.pk).update(
        status=Status.SENDING, attempts=1, next_attempt_at=timezone.now() + timedelta(minutes=3)
    )

    response = admin_client.post(
        CHANGELIST,
        {"action": "resend", "_selected_action": [ticket.pk, receipt.pk]},
        follow=True,
    )

    messages = [str(message) for message in response.context["messages"]]
    assert "1 email(s) queued to be sent again." in messages
    assert any("being sent right now" in message for message in messages)
    receipt.refresh_from_db()
    assert (receipt.status, receipt.attempts, receipt.last_error) == (Status.PENDING, 0, "")
    assert notifications_claim_unqueued() == [receipt.pk]  # the relay queues the resent one only
    ticket.refresh_from_db()
    assert ticket.status == Status.SENDING  # left to the attempt in flight


def test_staff_without_the_change_permission_cannot_resend(client, outbox):
    viewer = UserFactory(is_staff=True)
    viewer.groups.clear()  # not in "Airline staff", which may resend
    viewer.user_permissions.add(Permission.objects.get(codename="view_notification"))
    client.force_login(viewer)
    _, receipt = outbox

    listing = client.get(CHANGELIST)
    client.post(CHANGELIST, {"action": "resend", "_selected_action": [receipt.pk]})

    assert listing.status_code == 200
    assert 'value="resend"' not in listing.content.decode()
    receipt.refresh_from_db()
    assert receipt.status == Status.FAILED


def test_the_outbox_list_costs_the_same_queries_for_3_rows_as_for_30(client, staff_user):
    client.force_login(staff_user)

    def emails(count: int) -> None:
        for _ in range(count):
            events.booking_held.publish(events.BookingHeld(booking=booking_make()))

    emails(3)
    few = changelist_queries(client, CHANGELIST)
    emails(27)

    many = changelist_queries(client, CHANGELIST)

    assert len(client.get(CHANGELIST).context["cl"].result_list) == 30
    assert len(many) == len(few), "\n".join(many)
    assert len(many) <= 10, "\n".join(many)


def test_an_email_not_rendered_yet_is_previewed_as_it_will_be_sent_and_nothing_is_stored(admin_client):
    # given a "seats held" e-mail, which the sender renders when it sends it
    booking = booking_make()
    events.booking_held.publish(events.BookingHeld(booking=booking))
    held = Notification.objects.get(booking=booking)

    response = admin_client.get(reverse("admin:notifications_notification_html", args=[held.pk]))

    assert response.status_code == 200
    assert booking.reference in response.content.decode()
    held.refresh_from_db()
    assert (held.body_html, held.subject) == ("", "")
