"""The traveller's side in a real browser: coming back to a form already used, the money each
booking's page states, a hold running out on an open page, a flight no longer on sale, wording, and
the booking pages at desktop (1366×900) and phone (390×844) widths.

Headless Chromium (apps/core/testing/browser.py) against the live server; each step is saved as a
screenshot under test-artifacts/screenshots/.
"""

import re

import pytest

from apps.accounts.tests.factories import TEST_PASSWORD, UserFactory
from apps.bookings.models import Booking
from apps.bookings.services import booking_hold_create, booking_holds_expire
from apps.bookings.tests.factories import make_overdue
from apps.core.testing import browser as browser_fixtures
from apps.flights.models import Flight
from apps.flights.tests.test_views import Route, route_bom_del
from apps.payments.models import GatewayCharge, Payment
from apps.payments.services import payment_create

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


def box(page, locator) -> dict:
    return page.locator(locator).first.bounding_box()


def test_seat_pickers_come_before_the_seat_map_on_a_phone_and_beside_it_on_a_laptop(browser_page, route):
    web, page = browser_page, browser_page.page
    web.goto(f"/flights/{route.midday.pk}/?travellers=2")
    page.get_by_role("heading", name="Choose 2 seats").wait_for()

    page.set_viewport_size(LAPTOP)
    pickers, seat_map = box(page, "#travellers-title"), box(page, "#seatmap-title")
    assert pickers["x"] > seat_map["x"] + seat_map["width"]  # beside it
    assert abs(pickers["y"] - seat_map["y"]) < 5

    page.set_viewport_size(PHONE)
    pickers, seat_map = box(page, "#travellers-title"), box(page, "#seatmap-title")
    continue_button = box(page, "button[type=submit]")
    assert pickers["y"] < seat_map["y"]  # first
    assert continue_button["y"] < seat_map["y"]
    page.get_by_label("Traveller 1").select_option("3A")
    page.get_by_role("button", name="Continue to passenger details").click()
    page.get_by_role("heading", name="Sign in").wait_for()
    page.set_viewport_size(browser_fixtures.DESKTOP)
    web.goto(f"/flights/{route.midday.pk}/?travellers=2")
    web.snap("seat map")


def test_a_long_name_without_spaces_never_widens_the_booking_pages(browser_page, route, traveller):
    web, page = browser_page, browser_page.page
    long_name = "Venkatanarasimharajuvaripeta" * 3
    booking = booking_hold_create(
        user=traveller,
        flight_id=route.early.pk,
        passengers=[{"first_name": long_name, "last_name": long_name}],
        seats=["3A"],
    )
    web.sign_in_as(traveller)

    for path, heading in [
        ("/bookings/", "My bookings"),
        (f"/bookings/{booking.reference}/pay/", "Pay to confirm"),
    ]:
        web.goto(path)
        page.get_by_role("heading", name=heading).wait_for()
        for viewport in (LAPTOP, PHONE):
            page.set_viewport_size(viewport)
            overflow = page.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            assert overflow <= 0, f"{path} at {viewport['width']}px is {overflow}px too wide"
        page.set_viewport_size(browser_fixtures.DESKTOP)
        web.snap(heading)  # fails too when the page is wider than a phone
    assert long_name in page.content()


def test_booking_pages_say_what_happened_to_the_money_and_the_e_ticket_cancels(
    browser_page, route, traveller
):
    web, page = browser_page, browser_page.page
    expired = booking_hold_create(
        user=traveller,
        flight_id=route.early.pk,
        passengers=[{"first_name": "A", "last_name": "Rao"}],
        seats=["9A"],
    )
    make_overdue(expired)
    booking_holds_expire()
    confirmed = booking_hold_create(
        user=traveller,
        flight_id=route.midday.pk,
        passengers=[{"first_name": "B", "last_name": "Rao"}],
        seats=["6A"],
    )
    payment_create(
        user=traveller,
        booking_reference=confirmed.reference,
        amount=confirmed.total_amount,
        currency=confirmed.currency,
        payment_method="tok_visa",
        idempotency_key="browser-pay",
    )
    web.sign_in_as(traveller)

    # an expired hold: nothing was charged, and no "Total paid"
    web.goto(f"/bookings/{expired.reference}/")
    assert page.get_by_test_id("money").inner_text() == (
        "The time to pay ran out and the seats were released. Nothing was charged."
    )
    assert "Total paid" not in page.locator(".ticket").inner_text()
    web.snap("expired booking")

    # the e-ticket says what was paid, in whole rupees, and offers to cancel with the refund shown first
    web.goto(f"/bookings/{confirmed.reference}/")
    assert page.get_by_test_id("money").inner_text().startswith("Paid ₹3,900 on ")
    web.snap("e-ticket with cancel")
    page.get_by_role("link", name=f"Cancel booking {confirmed.reference}").click()
    assert page.get_by_test_id("quote-total").inner_text() == "₹3,900"
    web.snap("cancel confirmation")
    page.get_by_role("button", name="Cancel booking and get ₹3,900 back").click()
    page.get_by_text(f"Booking {confirmed.reference} is cancelled").wait_for()

    # then My bookings shows it cancelled and refunded, with no seats
    row = page.locator(f"[data-reference='{confirmed.reference}']")
    assert re.search(r"You cancelled this booking\. Refunded ₹3,900 on \d", row.inner_text())
    assert "6A" not in row.inner_text()
    web.snap("my bookings after cancel")
    assert Payment.objects.get(booking=confirmed).status == Payment.Status.REFUNDED
    assert GatewayCharge.objects.get().status == GatewayCharge.Status.REFUNDED
    assert Flight.objects.get(pk=route.midday.pk).available_seats == 68


def test_a_cancelled_flights_page_says_so_and_offers_no_seats(browser_page_without_js, route):
    web, page = browser_page_without_js, browser_page_without_js.page
    Flight.objects.filter(pk=route.midday.pk).update(status=Flight.Status.CANCELLED)

    web.goto(f"/flights/{route.midday.pk}/?travellers=1")

    page.get_by_role("heading", name="This flight is cancelled").wait_for()
    assert page.locator("[data-seat]").count() == 0
    assert page.locator("select").count() == 0
    assert page.get_by_role("button", name="Continue to passenger details").count() == 0
    assert "seats free" not in page.content()
    web.snap("cancelled flight")
    page.get_by_role("link", name="Search other flights").click()
    page.get_by_role("heading", name="BOM → DEL").wait_for()


def test_forms_speak_plainly(browser_page, route, traveller):
    web, page = browser_page, browser_page.page

    # a wrong password
    web.goto("/signin/")
    page.get_by_label("Email").fill("asha@example.com")
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("alert").filter(has_text="The email or password is wrong.").wait_for()
    assert "case-sensitive" not in page.content()
    web.snap("wrong password")

    # a sign-up with a registered email offers to sign in instead
    web.goto("/signup/")
    page.get_by_label("Name").fill("Asha")
    page.get_by_label("Email").fill("asha@example.com")
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Create account").click()
    page.get_by_text("We could not create an account with this email address.").wait_for()
    web.snap("registered email")
    page.get_by_role("link", name="Sign in instead").click()
    page.get_by_role("heading", name="Sign in").wait_for()

    # an empty passenger form
    web.sign_in_as(traveller)
    web.goto(f"/bookings/new/?flight={route.midday.pk}&seats=3A&seats=3C")
    page.get_by_role("button", name="Hold seats and continue to payment").click()
    page.get_by_text("Enter a first and last name for each of the 2 travellers.").wait_for()
    assert "forms" not in page.locator(".message--error").first.inner_text()
    web.snap("empty passenger form")
    assert not Booking.objects.exists()
