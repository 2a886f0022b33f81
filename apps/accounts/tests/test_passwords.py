"""Forgotten and changed passwords on the website: Django's views and tokens, the e-mail through the
outbox, the same answer for every address, and every other session ended."""

import re

import pytest
from django.contrib.auth.tokens import default_token_generator
from django.core import mail
from django.test import Client, override_settings

from apps.accounts.events import RESET_TOKEN_MARK
from apps.accounts.models import AuthSession
from apps.accounts.tests.factories import TEST_PASSWORD, UserFactory
from apps.notifications.models import Notification
from apps.notifications.services import notification_send
from conftest import authenticated_client

pytestmark = pytest.mark.django_db

RESET = "/password/reset/"
CHANGE = "/password/change/"
NEW_PASSWORD = "Monsoon-Runway-42"
LINK = re.compile(r"https?://[^\s\"<>]+/password/reset/[^\s\"<>]+/")


def signed_in_client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def reset_requested(email: str, client: Client | None = None):
    return (client or Client()).post(RESET, {"email": email})


def reset_link_sent() -> str:
    """Send every pending reset e-mail as the worker would; the link of the last one."""
    for pk in Notification.objects.filter(kind=Notification.Kind.PASSWORD_RESET).values_list("pk", flat=True):
        assert notification_send(notification_id=pk)
    links = LINK.findall(mail.outbox[-1].body)
    assert links, mail.outbox[-1].body
    return links[0]


def test_a_known_and_an_unknown_address_get_the_same_answer_and_only_the_known_one_an_email():
    UserFactory(email="asha@example.com")

    known = reset_requested("Asha@Example.com")
    unknown = reset_requested("nobody@example.com")

    assert known.status_code == unknown.status_code == 302
    assert known["Location"] == unknown["Location"] == "/password/reset/sent/"
    row = Notification.objects.get()
    assert row.kind == Notification.Kind.PASSWORD_RESET
    assert row.recipient == "asha@example.com"
    assert row.user.email == "asha@example.com"
    assert row.booking is None
    page = Client().get("/password/reset/sent/")
    assert "If an account uses that address" in page.content.decode()


def test_the_outbox_keeps_no_usable_link_and_the_sent_email_carries_a_working_one():
    user = UserFactory(email="asha@example.com", name="Asha Rao")
    reset_requested(user.email)

    link = reset_link_sent()

    row = Notification.objects.get()
    assert RESET_TOKEN_MARK in row.body_text
    assert RESET_TOKEN_MARK in row.body_html
    assert RESET_TOKEN_MARK not in link
    token = link.rstrip("/").rsplit("/", 1)[1]
    assert default_token_generator.check_token(user, token)
    assert token not in row.body_text + row.body_html
    message = mail.outbox[-1]
    assert message.to == ["asha@example.com"]
    assert message.subject == "Reset your Airline password"
    assert "Dear Asha Rao" in message.body
    assert link in message.alternatives[0][0]


def test_resetting_sets_the_password_and_ends_every_session_and_token_of_the_user():
    user = UserFactory(email="asha@example.com")
    other_browser = signed_in_client(user)
    api = authenticated_client(user)
    assert api.get("/api/v1/auth/me").status_code == 200
    reset_requested(user.email)
    path = re.sub(r"^https?://[^/]+", "", reset_link_sent())

    browser = Client()
    form_page = browser.get(path, follow=True)
    assert "Choose a new password" in form_page.content.decode()
    done = browser.post(
        form_page.redirect_chain[-1][0], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    )

    assert done.status_code == 302
    assert done["Location"] == "/password/reset/done/"
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    assert api.get("/api/v1/auth/me").status_code == 401
    assert not AuthSession.objects.filter(user=user).exists()
    assert other_browser.get("/bookings/")["Location"].startswith("/signin/")
    again = Client().get(path, follow=True)
    assert "This link no longer works" in again.content.decode()


def test_a_password_reset_with_a_mismatch_is_a_form_error_and_changes_nothing():
    user = UserFactory(email="asha@example.com")
    reset_requested(user.email)
    path = re.sub(r"^https?://[^/]+", "", reset_link_sent())
    browser = Client()
    form_page = browser.get(path, follow=True)

    refused = browser.post(
        form_page.redirect_chain[-1][0], {"new_password1": NEW_PASSWORD, "new_password2": "Something-else-9"}
    )

    assert refused.status_code == 200
    assert refused.context["form"].errors["new_password2"]
    user.refresh_from_db()
    assert user.check_password(TEST_PASSWORD)


def test_changing_the_password_keeps_this_browser_signed_in_and_ends_every_other_session():
    user = UserFactory(email="asha@example.com")
    here, elsewhere = signed_in_client(user), signed_in_client(user)
    api = authenticated_client(user)

    changed = here.post(
        CHANGE,
        {"old_password": TEST_PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )

    assert changed.status_code == 302
    assert changed["Location"] == "/password/change/done/"
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    assert here.get("/bookings/").status_code == 200
    assert elsewhere.get("/bookings/")["Location"].startswith("/signin/")
    assert api.get("/api/v1/auth/me").status_code == 401
    assert not AuthSession.objects.filter(user=user).exists()


def test_a_wrong_current_password_is_a_form_error_and_changes_nothing():
    user = UserFactory(email="asha@example.com")
    here = signed_in_client(user)
    api = authenticated_client(user)

    refused = here.post(
        CHANGE, {"old_password": "not-it", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    )

    assert refused.status_code == 200
    assert refused.context["form"].errors["old_password"]
    user.refresh_from_db()
    assert user.check_password(TEST_PASSWORD)
    assert api.get("/api/v1/auth/me").status_code == 200


def test_the_password_change_page_needs_a_signed_in_user():
    response = Client().get(CHANGE)

    assert response.status_code == 302
    assert response["Location"].startswith("/signin/")


@override_settings(RATELIMIT_PASSWORD_RESET_EMAIL="2/h")
def test_one_address_gets_at_most_its_limit_of_emails_and_the_page_does_not_say_so():
    UserFactory(email="asha@example.com")

    answers = [reset_requested("asha@example.com", Client(REMOTE_ADDR=f"10.0.0.{n}")) for n in range(3)]

    assert [a["Location"] for a in answers] == ["/password/reset/sent/"] * 3
    assert Notification.objects.count() == 2


@override_settings(RATELIMIT_PASSWORD_RESET="2/h")
def test_requests_from_one_address_are_limited_and_the_refused_one_sends_nothing():
    UserFactory(email="asha@example.com")
    client = Client()

    allowed = [reset_requested("asha@example.com", client) for _ in range(2)]
    refused = reset_requested("asha@example.com", client)

    assert [a["Location"] for a in allowed] == ["/password/reset/sent/"] * 2
    assert refused["Location"] == RESET
    assert "Please wait" in client.get(RESET).content.decode()
    assert Notification.objects.count() == 2
