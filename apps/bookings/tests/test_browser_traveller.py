"""The traveller's side in a real browser: coming back to a form already used, the money each
booking's page states, a hold running out on an open page, a flight no longer on sale, wording, and
the booking pages at desktop (1366×900) and phone (390×844) widths.

Headless Chromium (apps/core/testing/browser.py) against the live server; each step is saved as a
screenshot under test-artifacts/screenshots/.
"""

import re

import pytest

from apps.accounts.tests.factories import UserFactory
from apps.bookings.models import Booking
from apps.core.testing import browser as browser_fixtures
from apps.flights.models import Flight
from apps.flights.tests.test_views import Route, route_bom_del

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

chromium = browser_fixtures.chromium
browser_page = browser_fixtures.browser_page
browser_page_without_js = browser_fixtures.browser_page_without_js

LAPTOP = {"width": 1366, "height": 900}
PHONE = browser_fixtures.PHONE


@pytest.fixture
def route() -> Route:
    return route_bom_del()


@pytest.fixture
def traveller():
    return UserFactory(email="asha@example.com", name="Asha Rao")


def fill_names(page, *names: tuple[str, str]) -> None:
    for number, (first, last) in enumerate(names, start=1):
        group = page.get_by_role("group", name=re.compile(f"Traveller {number}"))
        group.get_by_label("First name").fill(first)
        group.get_by_label("Last name").fill(last)


def test_back_from_the_pay_page_and_submitting_again_resumes_the_travellers_own_hold(
    browser_page, route, traveller
):
    web, page = browser_page, browser_page.page
    web.sign_in_as(traveller)
    web.goto(f"/bookings/new/?flight={route.midday.pk}&seats=1A&seats=1D")
    fill_names(page, ("Asha", "Rao"), ("Ravi", "Rao"))
    page.get_by_role("button", name="Hold seats and continue to payment").click()
    page.get_by_role("heading", name="Pay to confirm").wait_for()
    booking = Booking.objects.get(owner=traveller)

    # when they go back to the passenger form, fill it in again and submit
    page.go_back()
    page.get_by_role("heading", name="Who is flying?").wait_for()
    fill_names(page, ("Asha", "Rao"), ("Ravi", "Rao"))
    page.get_by_role("button", name="Hold seats and continue to payment").click()

    # then they are on their own hold's pay page, told so plainly, and nothing more was held
    page.get_by_role("heading", name="Pay to confirm").wait_for()
    assert page.get_by_test_id("reference").inner_text() == booking.reference
    assert "already held for you in booking" in page.locator(".messages").inner_text()
    assert "Someone else got there first" not in page.content()
    web.snap("back and submitted again")

    # and a fresh passenger page for the same seats (a new key) leads there too
    web.goto(f"/bookings/new/?flight={route.midday.pk}&seats=1A&seats=1D")
    fill_names(page, ("Asha", "Rao"), ("Ravi", "Rao"))
    page.get_by_role("button", name="Hold seats and continue to payment").click()
    page.get_by_role("heading", name="Pay to confirm").wait_for()
    assert page.get_by_test_id("reference").inner_text() == booking.reference

    assert Booking.objects.count() == 1
    assert sorted(booking.seat_assignments.filter(active=True).values_list("seat_code", flat=True)) == [
        "1A",
        "1D",
    ]
    assert Flight.objects.get(pk=route.midday.pk).available_seats == 66
    web.goto("/bookings/")
    assert page.locator("[data-reference]").count() == 1


def test_when_the_countdown_reaches_zero_the_page_says_only_that_the_hold_ended(
    browser_page, route, traveller, settings
):
    web, page = browser_page, browser_page.page
    settings.BOOKING_HOLD_SECONDS = 4  # the hold the passenger form makes lasts 4 s
    web.sign_in_as(traveller)
    web.goto(f"/bookings/new/?flight={route.midday.pk}&seats=2A")
    fill_names(page, ("Asha", "Rao"))
    page.get_by_role("button", name="Hold seats and continue to payment").click()
    page.get_by_role("heading", name="Pay to confirm").wait_for()
    held_banner = page.get_by_text("Your seats are held.")
    assert held_banner.is_visible()

    # when the open page's countdown reaches zero
    page.get_by_text("Your hold has expired and the seats are released.").wait_for()

    # then the held banner, the countdown and the pay button are gone, and the heading says it ended
    assert page.get_by_role("heading", level=1).inner_text() == "Your hold has ended"
    assert not held_banner.is_visible()
    assert not page.locator("[data-countdown]").is_visible()
    assert not page.get_by_role("button", name=re.compile("^Pay ")).is_visible()
    assert page.get_by_role("alert").filter(has_text="Nothing was charged").is_visible()
    web.snap("countdown reached zero")
