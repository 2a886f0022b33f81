"""A traveller who forgot their password gets back in, then changes it, in real Chromium; each page is
saved at desktop and phone widths under test-artifacts/screenshots/."""

import re

import pytest
from django.core import mail

from apps.accounts.tests.factories import UserFactory
from apps.core.testing import browser as browser_fixtures
from apps.notifications.models import Notification
from apps.notifications.services import notification_send

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

chromium = browser_fixtures.chromium
browser_page = browser_fixtures.browser_page
browser_page_without_js = browser_fixtures.browser_page_without_js

NEW_PASSWORD = "Monsoon-Runway-42"
NEWER_PASSWORD = "Harbour-Lights-77"


def emailed_link() -> str:
    """Send the pending reset e-mail as the worker would, and read the link in it."""
    row = Notification.objects.get(kind=Notification.Kind.PASSWORD_RESET)
    assert notification_send(notification_id=row.pk)
    return re.search(r"https?://\S+/password/reset/\S+/", mail.outbox[-1].body).group(0)


def test_forgotten_password_reset_by_email_then_changed_while_signed_in(browser_page):
    web, page = browser_page, browser_page.page
    user = UserFactory(email="asha@example.com", name="Asha Rao")

    web.goto("/signin/")
    page.get_by_role("link", name="Forgot your password?").click()
    page.get_by_role("heading", name="Reset your password").wait_for()
    web.snap("reset request")
    page.get_by_label("Email").fill("asha@example.com")
    page.get_by_role("button", name="Send the link").click()
    page.get_by_role("heading", name="Check your e-mail").wait_for()
    web.snap("reset link sent")

    page.goto(emailed_link())
    page.get_by_role("heading", name="Choose a new password").wait_for()
    web.snap("choose a new password")
    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("New password confirmation").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Save the new password").click()
    page.get_by_role("heading", name="Your password is changed").wait_for()
    web.snap("password reset")

    page.get_by_role("link", name="Sign in").last.click()
    page.get_by_label("Email").fill("asha@example.com")
    page.get_by_label("Password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("link", name="Asha Rao").click()
    page.get_by_role("heading", name="Change your password").wait_for()
    web.snap("change password")
    page.get_by_label("Old password").fill(NEW_PASSWORD)
    page.get_by_label("New password", exact=True).fill(NEWER_PASSWORD)
    page.get_by_label("New password confirmation").fill(NEWER_PASSWORD)
    page.get_by_role("button", name="Change the password").click()
    page.get_by_role("heading", name="Your password is changed").wait_for()
    assert page.get_by_role("link", name="My bookings").first.is_visible()  # still signed in here
    web.snap("password changed")

    user.refresh_from_db()
    assert user.check_password(NEWER_PASSWORD)


def test_a_reset_link_works_without_javascript_and_only_once(browser_page_without_js):
    web, page = browser_page_without_js, browser_page_without_js.page
    UserFactory(email="asha@example.com")
    web.goto("/password/reset/")
    page.get_by_label("Email").fill("asha@example.com")
    page.get_by_role("button", name="Send the link").click()
    page.get_by_role("heading", name="Check your e-mail").wait_for()
    link = emailed_link()

    page.goto(link)
    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("New password confirmation").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Save the new password").click()
    page.get_by_role("heading", name="Your password is changed").wait_for()
    page.goto(link)

    page.get_by_role("heading", name="This link no longer works").wait_for()
    web.snap("spent reset link")
