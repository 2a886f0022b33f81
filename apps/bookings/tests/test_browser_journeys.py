"""The website in a real browser: the whole journey and its failure journeys.

Headless Chromium (Debian's, /usr/bin/chromium) driven by Playwright against the live server.
Each step is saved as a screenshot at desktop and phone widths under test-artifacts/screenshots/.
"""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from apps.accounts.tests.factories import TEST_PASSWORD, UserFactory
from apps.bookings.models import Booking
from apps.bookings.services import booking_hold_create
from apps.core.testing import browser as browser_fixtures
from apps.flights.models import Flight
from apps.flights.tests.test_views import Route, route_bom_del
from apps.payments.models import GatewayCharge, Payment

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

chromium = browser_fixtures.chromium
browser_page = browser_fixtures.browser_page
browser_page_without_js = browser_fixtures.browser_page_without_js


# Posts the page's form (found by the selector) twice at once, as a double click can; the answers' statuses.
SEND_TWICE = """async (selector) => {
    const form = document.querySelector(selector);
    const send = () => fetch(location.href, {method: 'POST', body: new FormData(form)});
    const responses = await Promise.all([send(), send()]);
    return responses.map(r => r.status);
}"""


@pytest.fixture
def route() -> Route:
    return route_bom_del()


@pytest.fixture
def traveller():
    return UserFactory(email="asha@example.com", name="Asha Rao")


def hold_for(user, flight: Flight, *seats: str) -> Booking:
    return booking_hold_create(
        user=user,
        flight_id=flight.pk,
        passengers=[{"first_name": f"Pax{n}", "last_name": "Rao"} for n in range(len(seats))],
        seats=list(seats),
    )


def test_whole_journey_search_seats_passengers_pay_ticket_my_bookings_cancel(browser_page, route, traveller):
    web, page = browser_page, browser_page.page

    # given the home page, when the traveller searches BOM → DEL for two with the autocomplete
    web.goto("/")
    page.get_by_label("From").fill("Mum")
    page.locator("datalist option[value='BOM']").wait_for(state="attached")
    page.get_by_label("From").fill("BOM")
    page.get_by_label("To").fill("DEL")
    page.get_by_label("Date").fill(route.day.isoformat())
    page.get_by_label("Travellers").fill("2")
    web.snap("search")
    page.get_by_role("button", name="Search flights").click()

    # then the results show the three flights in local times; sorting and the fare filter work
    page.get_by_role("heading", name="BOM → DEL").wait_for()
    assert page.locator("[data-flight-number]").evaluate_all(
        "els => els.map(e => e.dataset.flightNumber)"
    ) == [
        "AI101",
        "AI205",
        "AI877",
    ]
    web.snap("results")
    page.get_by_label("Sort by").select_option("price_asc")
    page.get_by_label("Highest fare").fill("6000")
    page.get_by_role("button", name="Apply").click()
    page.wait_for_url(re.compile(r"price_max=6000"))
    assert page.locator("[data-flight-number]").evaluate_all(
        "els => els.map(e => e.dataset.flightNumber)"
    ) == [
        "AI205",
        "AI101",
    ]
    web.snap("results sorted by price")

    # when they pick the 09:30 flight and click two seats on the map
    page.get_by_role("link", name=re.compile("Choose seats on AI205")).click()
    page.get_by_role("heading", name="Choose 2 seats").wait_for()
    page.get_by_role("button", name=re.compile(r"^Row 3, seat A, ")).click()
    page.get_by_role("button", name=re.compile(r"^Row 3, seat B, ")).click()
    assert page.get_by_label("Traveller 1", exact=True).input_value() == "3A"
    assert page.get_by_label("Traveller 2", exact=True).input_value() == "3B"
    web.snap("seat map")
    page.get_by_role("button", name="Continue to passenger details").click()

    # then they are asked to sign in, and come back to the passenger details
    page.get_by_role("heading", name="Sign in").wait_for()
    web.snap("sign in")
    page.get_by_label("Email").fill("asha@example.com")
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="Who is flying?").wait_for()
    for number, (first, last) in enumerate([("Asha", "Rao"), ("Ravi", "Rao")], start=1):
        group = page.get_by_role("group", name=re.compile(f"Traveller {number}"))
        group.get_by_label("First name").fill(first)
        group.get_by_label("Last name").fill(last)
    web.snap("passengers")
    page.get_by_role("button", name="Hold seats and continue to payment").click()

    # then the hold page counts down to the expiry, and paying with tok_visa shows the e-ticket
    page.get_by_role("heading", name="Pay to confirm").wait_for()
    clock = page.locator("[data-countdown-clock]")
    assert re.fullmatch(r"(09:[0-5]\d|10:00)", clock.inner_text())
    first_reading = clock.inner_text()
    page.wait_for_function(
        "first => document.querySelector('[data-countdown-clock]').textContent !== first", arg=first_reading
    )
    booking = Booking.objects.get(owner=traveller)
    assert booking.status == Booking.Status.HELD
    web.snap("hold and pay")
    page.get_by_label(re.compile("Visa ending 4242")).check()
    page.get_by_role("button", name="Pay ₹7,800").click()
    page.get_by_role("heading", name="E-ticket").wait_for()
    assert page.get_by_test_id("reference").inner_text() == booking.reference
    ticket = page.locator(".ticket").inner_text()
    assert "Asha RAO" in ticket
    assert "Ravi RAO" in ticket
    assert "3A" in ticket
    assert "3B" in ticket
    assert "09:30" in ticket
    assert "AI205" in ticket
    web.snap("e-ticket")
    page.emulate_media(media="print")
    assert not page.locator(".site-header").is_visible()
    page.emulate_media(media="screen")

    # when they open My bookings and cancel it (confirming on the page that shows the refund)
    page.get_by_role("link", name="My bookings").first.click()
    row = page.locator(f"[data-reference='{booking.reference}']")
    assert "CONFIRMED" in row.inner_text().upper()
    web.snap("my bookings")
    row.get_by_role("link", name=f"Cancel booking {booking.reference}").click()
    assert page.get_by_test_id("quote-line").count() == 2 * booking.segment_count  # two passengers a flight
    page.get_by_role("button", name=re.compile(r"^Cancel booking and get .+ back$")).click()
    page.get_by_text(f"Booking {booking.reference} is cancelled").wait_for()
    assert "CANCELLED" in page.locator(f"[data-reference='{booking.reference}']").inner_text().upper()
    web.snap("cancelled")

    # then the money went back and the seats are free again; signing out ends the session
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CANCELLED
    assert list(Payment.objects.filter(booking=booking).values_list("status", flat=True)) == ["refunded"]
    assert GatewayCharge.objects.get().status == GatewayCharge.Status.REFUNDED
    assert Flight.objects.get(pk=route.midday.pk).available_seats == 68
    page.get_by_role("button", name="Sign out").click()
    page.get_by_text("You are signed out.").wait_for()
    assert page.get_by_role("link", name="Sign in").is_visible()


def test_declined_card_shows_a_message_keeps_the_hold_and_another_card_pays(browser_page, route, traveller):
    web, page = browser_page, browser_page.page
    booking = hold_for(traveller, route.early, "5C")
    web.sign_in_as(traveller)

    web.goto(f"/bookings/{booking.reference}/pay/")
    page.get_by_label(re.compile("Visa ending 0002")).check()
    page.get_by_role("button", name=re.compile("^Pay ")).click()

    page.get_by_role("alert").filter(has_text="Your card was not charged").wait_for()
    web.snap("declined")
    assert Booking.objects.get(pk=booking.pk).status == Booking.Status.HELD
    assert list(Payment.objects.values_list("status", flat=True)) == ["declined"]
    assert not GatewayCharge.objects.filter(status=GatewayCharge.Status.SUCCEEDED).exists()

    page.get_by_label(re.compile("Visa ending 4242")).check()
    page.get_by_role("button", name=re.compile("^Pay ")).click()
    page.get_by_role("heading", name="E-ticket").wait_for()
    assert Booking.objects.get(pk=booking.pk).status == Booking.Status.CONFIRMED


def test_expired_hold_counts_down_to_a_clear_message_and_a_new_search(browser_page, route, traveller):
    web, page = browser_page, browser_page.page
    booking = hold_for(traveller, route.early, "6A")
    Booking.objects.filter(pk=booking.pk).update(hold_expires_at=timezone.now() + timedelta(seconds=2))
    web.sign_in_as(traveller)

    # the open page's countdown reaches zero: the pay form goes and the message says why
    web.goto(f"/bookings/{booking.reference}/pay/")
    page.get_by_text("Your hold has expired and the seats are released.").wait_for()
    assert not page.get_by_role("button", name=re.compile("^Pay ")).is_visible()
    web.snap("countdown ran out")

    # a reload shows the server's verdict and a way to search again, which leads to BOM → DEL
    page.reload()
    page.get_by_role("heading", name="Your hold has ended").wait_for()
    web.snap("expired hold")
    page.get_by_role("link", name="Search flights again").click()
    page.get_by_role("heading", name="BOM → DEL").wait_for()
    assert not Payment.objects.exists()
    assert not GatewayCharge.objects.exists()


def test_expired_hold_refuses_payment_even_without_javascript(browser_page_without_js, route, traveller):
    web, page = browser_page_without_js, browser_page_without_js.page
    booking = hold_for(traveller, route.early, "6B")
    web.sign_in_as(traveller)
    web.goto(f"/bookings/{booking.reference}/pay/")

    Booking.objects.filter(pk=booking.pk).update(hold_expires_at=timezone.now() - timedelta(seconds=1))
    page.get_by_role("button", name=re.compile("^Pay ")).click()

    page.get_by_text("The hold on this booking has expired").wait_for()
    assert page.get_by_role("link", name="Search flights again").is_visible()
    web.snap("expired hold without javascript")
    assert not Payment.objects.exists()
    assert not GatewayCharge.objects.exists()
    assert Booking.objects.get(pk=booking.pk).status == Booking.Status.HELD  # the sweeper expires it


def test_seat_taken_by_another_buyer_meanwhile_shows_the_refreshed_seat_map(browser_page, route, traveller):
    web, page = browser_page, browser_page.page
    web.sign_in_as(traveller)
    web.goto(f"/flights/{route.midday.pk}/?travellers=2")
    page.get_by_role("button", name=re.compile(r"^Row 7, seat C, ")).click()
    page.get_by_role("button", name=re.compile(r"^Row 7, seat D, ")).click()
    page.get_by_role("button", name="Continue to passenger details").click()
    page.get_by_role("heading", name="Who is flying?").wait_for()
    for number in (1, 2):
        group = page.get_by_role("group", name=re.compile(f"Traveller {number}"))
        group.get_by_label("First name").fill(f"Pax{number}")
        group.get_by_label("Last name").fill("Rao")

    # when another buyer holds 7D between the seat map and the submit
    rival = hold_for(UserFactory(), route.midday, "7D")
    page.get_by_role("button", name="Hold seats and continue to payment").click()

    # then the seat map is back, up to date, with a message; nothing was held for this traveller
    page.get_by_role("heading", name="Choose 2 seats").wait_for()
    assert "Someone else got there first" in page.get_by_role("alert").inner_text()
    assert page.get_by_role("button", name=re.compile(r"^Row 7, seat D, .*, taken$")).is_disabled()
    assert (
        page.get_by_role("button", name=re.compile(r"^Row 7, seat C, ")).get_attribute("aria-pressed")
        == "true"
    )
    assert page.get_by_label("Traveller 1", exact=True).input_value() == "7C"
    assert page.get_by_label("Traveller 2", exact=True).input_value() == ""
    web.snap("seat taken meanwhile")
    assert not Booking.objects.filter(owner=traveller).exists()
    assert list(Booking.objects.values_list("pk", flat=True)) == [rival.pk]
    assert Flight.objects.get(pk=route.midday.pk).available_seats == 67


def test_pages_around_the_journey_at_desktop_and_phone_widths(browser_page, route, traveller):
    web, page = browser_page, browser_page.page

    # a search with a mistake shows it on its field; a search with no flights says so
    web.goto("/flights/?origin=BOM&destination=BOM&travellers=1")
    assert "Choose a destination other than" in page.locator(".search-form").inner_text()
    web.snap("search error")
    web.goto("/flights/?origin=DEL&destination=BOM&travellers=1")
    page.get_by_role("heading", name="No flights match").wait_for()
    web.snap("no flights")

    # sign up, and a page that does not exist
    web.goto("/signup/")
    page.get_by_role("heading", name="Create your account").wait_for()
    web.snap("sign up")
    assert web.goto("/no-such-page/").status == 404
    page.get_by_role("heading", name="We couldn't find that page").wait_for()
    web.snap("not found")

    # a traveller's held booking says by when to pay, on the departure airport's clock
    booking = hold_for(traveller, route.early, "4C")
    web.sign_in_as(traveller)
    web.goto("/bookings/")
    pay_by = page.locator(f"[data-reference='{booking.reference}'] [data-testid='pay-by']").inner_text()
    assert re.fullmatch(r"Pay by \w{3} \d{1,2} \w{3} \d{4}, \d\d:\d\d IST \(Mumbai time\)", pay_by)
    web.snap("my bookings with a hold")


def test_double_clicked_hold_and_pay_and_resubmitted_forms_make_one_booking_and_one_payment(
    browser_page, route, traveller
):
    web, page = browser_page, browser_page.page
    web.sign_in_as(traveller)
    web.goto(f"/bookings/new/?flight={route.evening.pk}&seats=&seats=")  # two travellers, any seats
    for number in (1, 2):
        group = page.get_by_role("group", name=re.compile(f"Traveller {number}"))
        group.get_by_label("First name").fill(f"Pax{number}")
        group.get_by_label("Last name").fill("Rao")

    # when the same passenger form reaches the server twice at once, then Hold is double-clicked
    hold_statuses = page.evaluate(SEND_TWICE, "[data-hold-form]")
    page.get_by_role("button", name="Hold seats and continue to payment").dblclick()

    # then the seats were held once, and every submission led to that hold
    page.get_by_role("heading", name="Pay to confirm").wait_for()
    booking = Booking.objects.get(owner=traveller)
    assert page.get_by_test_id("reference").inner_text() == booking.reference
    assert hold_statuses == [200, 200]
    assert Flight.objects.get(pk=route.evening.pk).available_seats == 66
    web.snap("held once")

    # when the same pay form reaches the server twice at once, then Pay is double-clicked
    pay_statuses = page.evaluate(SEND_TWICE, "[data-pay-form]")
    page.get_by_role("button", name=re.compile("^Pay ")).dblclick()
    page.get_by_role("heading", name="E-ticket").wait_for()
    web.snap("after double click")

    # then every answer was a page, not an error, and exactly one payment and one charge exist
    assert pay_statuses == [200, 200]
    assert Booking.objects.get(pk=booking.pk).status == Booking.Status.CONFIRMED
    assert Payment.objects.filter(booking=booking).count() == 1
    assert Payment.objects.get(booking=booking).status == Payment.Status.SUCCEEDED
    assert GatewayCharge.objects.count() == 1
