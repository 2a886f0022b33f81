"""Adults, children and infants (docs/PASSENGERS.md): who travels as what, where they sit, what they pay."""

import csv
import io
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from apps.accounts.tests.factories import UserFactory
from apps.bookings import refund_rules
from apps.bookings.boarding import boarding_passes
from apps.bookings.models import Booking, InfantFare, Passenger, SeatAssignment
from apps.bookings.pricing import passenger_fare
from apps.bookings.refund_rules import RefundRule
from apps.bookings.services import booking_cancel, booking_check_in, booking_hold_create
from apps.bookings.services.holds import PassengerRequest, age_on, passenger_types_ensure, travel_date
from apps.bookings.services.quotes import booking_cancellation_quote
from apps.bookings.tests.factories import booking_flight, return_flight
from apps.bookings.tests.test_check_in import flight_in, signed_in
from apps.bookings.tests.test_journeys import return_pair
from apps.core.exceptions import ValidationFailed
from apps.flights.models import Flight
from apps.flights.tests.test_views import route_bom_del
from apps.notifications.models import Notification
from apps.notifications.services import notification_send, notifications_create
from apps.payments.models import Refund
from apps.payments.tests.factories import booking_paid

pytestmark = pytest.mark.django_db

URL = "/api/v1/bookings"


def pax(position: int, kind: str = "adult", born: date | None = None, travelling_with: int | None = None):
    return PassengerRequest(
        position=position,
        first_name=f"Pax{position}",
        last_name="Traveller",
        type=kind,
        date_of_birth=born,
        travelling_with=travelling_with,
    )


def refusal(passengers, day: date) -> dict[str, list[str]]:
    with pytest.raises(ValidationFailed) as refused:
        passenger_types_ensure(passengers, travel_date=day)
    return refused.value.errors


def body(kind: str = "adult", born: str | None = None, travelling_with: int | None = None, n: int = 1):
    given = {"first_name": f"Pax{n}", "last_name": "Traveller", "type": kind}
    if born is not None:
        given["date_of_birth"] = born
    if travelling_with is not None:
        given["travelling_with"] = travelling_with
    return given


def family(travel: date) -> list[dict]:
    """Two adults, a child of 5 and an infant of 1 on `travel`, the infant on the first adult's lap."""
    return [
        body(n=1),
        body(n=2),
        body("child", travel.replace(year=travel.year - 5).isoformat(), n=3),
        body("infant", (travel - timedelta(days=400)).isoformat(), travelling_with=1, n=4),
    ]


# --- Ages ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("born", "day", "age"),
    [
        (date(2024, 2, 29), date(2026, 2, 28), 1),
        (date(2024, 2, 29), date(2026, 3, 1), 2),
        (date(2024, 2, 29), date(2028, 2, 28), 3),
        (date(2024, 2, 29), date(2028, 2, 29), 4),
        (date(2020, 6, 15), date(2022, 6, 14), 1),
        (date(2020, 6, 15), date(2022, 6, 15), 2),
    ],
)
def test_age_is_whole_years_and_a_leap_day_birthday_falls_on_1_march_in_other_years(born, day, age):
    assert age_on(born, day) == age


def test_a_child_turning_2_on_the_day_of_travel_is_a_child_not_an_infant():
    travel = date(2027, 2, 28)

    passenger_types_ensure([pax(1), pax(2, "child", date(2025, 2, 28))], travel_date=travel)
    errors = refusal([pax(1), pax(2, "infant", date(2025, 2, 28), travelling_with=1)], travel)

    assert errors == {
        "passengers.1.date_of_birth": [
            "Passenger 2 (infant): an infant is under 2 on the date of travel (2027-02-28); "
            "this passenger is 2."
        ]
    }


def test_an_infant_one_day_short_of_2_is_an_infant():
    passenger_types_ensure([pax(1), pax(2, "infant", date(2025, 3, 1), 1)], travel_date=date(2027, 2, 28))


def test_a_child_turning_12_on_the_day_of_travel_is_refused_as_a_child():
    travel = date(2027, 2, 28)

    passenger_types_ensure([pax(1), pax(2, "child", date(2015, 3, 1))], travel_date=travel)
    errors = refusal([pax(1), pax(2, "child", date(2015, 2, 28))], travel)

    assert errors == {
        "passengers.1.date_of_birth": [
            "Passenger 2 (child): a child is 2 to 11 on the date of travel (2027-02-28); "
            "this passenger is 12."
        ]
    }


def test_a_leap_day_infant_is_still_an_infant_on_28_february_and_2_on_1_march():
    born = date(2024, 2, 29)

    passenger_types_ensure([pax(1), pax(2, "infant", born, 1)], travel_date=date(2026, 2, 28))
    errors = refusal([pax(1), pax(2, "infant", born, 1)], date(2026, 3, 1))
    passenger_types_ensure([pax(1), pax(2, "child", born)], travel_date=date(2026, 3, 1))

    assert list(errors) == ["passengers.1.date_of_birth"]


def test_dates_of_birth_missing_or_after_travel_or_too_young_for_an_adult_are_refused_by_passenger():
    errors = refusal(
        [
            pax(1),
            pax(2, "adult", date(2016, 1, 1)),
            pax(3, "child"),
            pax(4, "infant", date(2027, 3, 1), 1),
        ],
        date(2027, 2, 28),
    )

    assert errors == {
        "passengers.1.date_of_birth": [
            "Passenger 2 (adult): under 12 on 2027-02-28; book as a child or infant."
        ],
        "passengers.2.date_of_birth": ["Passenger 3 (child): a date of birth is required for a child."],
        "passengers.3.date_of_birth": [
            "Passenger 4 (infant): the date of birth is after the date of travel (2027-02-28)."
        ],
    }


# --- Who travels with whom ------------------------------------------------------------------------


def test_more_infants_than_adults_is_refused_one_infant_per_adult():
    baby = date(2026, 6, 1)

    errors = refusal([pax(1), pax(2, "infant", baby, 1), pax(3, "infant", baby, 1)], date(2027, 2, 28))

    assert errors == {
        "passengers.2.travelling_with": [
            "Passenger 3 (infant): passenger 1 already has an infant (passenger 2) on their lap; "
            "one infant per adult."
        ]
    }


def test_a_booking_without_an_adult_is_refused():
    errors = refusal(
        [pax(1, "child", date(2020, 1, 1)), pax(2, "child", date(2021, 1, 1))], date(2027, 2, 28)
    )

    assert errors == {"passengers": ["A booking needs at least one adult (12 or older)."]}


@pytest.mark.parametrize(
    ("travelling_with", "message"),
    [
        (None, "Passenger 3 (infant): name the adult the infant travels with (their passenger number)."),
        (2, "Passenger 3 (infant): passenger 2 is not an adult of this booking."),
        (3, "Passenger 3 (infant): passenger 3 is not an adult of this booking."),
        (7, "Passenger 3 (infant): passenger 7 is not an adult of this booking."),
    ],
)
def test_an_infant_without_its_adult_is_refused(travelling_with, message):
    errors = refusal(
        [pax(1), pax(2, "child", date(2020, 1, 1)), pax(3, "infant", date(2026, 6, 1), travelling_with)],
        date(2027, 2, 28),
    )

    assert errors == {"passengers.2.travelling_with": [message]}


def test_only_an_infant_names_an_adult_to_travel_with():
    errors = refusal([pax(1), pax(2, "child", date(2020, 1, 1), travelling_with=1)], date(2027, 2, 28))

    assert errors == {
        "passengers.1.travelling_with": ["Passenger 2 (child): only an infant travels with an adult."]
    }


# --- Fares --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("adult", "kind", "currency", "fare"),
    [
        (Decimal("4500.00"), "adult", "INR", Decimal("4500.00")),
        (Decimal("4500.00"), "child", "INR", Decimal("3375.00")),
        (Decimal("4500.00"), "infant", "INR", Decimal("450.00")),
        (Decimal("4999.99"), "child", "INR", Decimal("3749.99")),  # 3749.9925
        (Decimal("0.05"), "child", "EUR", Decimal("0.04")),  # 0.0375, half up
        (Decimal("1005"), "infant", "JPY", Decimal("101")),  # 100.5, no minor unit
    ],
)
def test_passenger_fare_is_a_percentage_of_the_adult_fare_rounded_once(adult, kind, currency, fare):
    assert passenger_fare(adult, kind, currency=currency) == fare


def test_the_percentages_are_settings(settings):
    settings.CHILD_FARE_PERCENT, settings.INFANT_FARE_PERCENT = 50, 0

    assert passenger_fare(Decimal("4500.00"), "child") == Decimal("2250.00")
    assert passenger_fare(Decimal("4500.00"), "infant") == Decimal("0.00")


# --- The hold -----------------------------------------------------------------------------------


def test_a_family_holds_seats_for_adults_and_children_and_prices_the_infant_on_a_lap(
    strategy, customer, flight
):
    # given a flight with economy at 4500 and a family of two adults, a child and an infant
    available = flight.available_seats
    travel = travel_date(Flight.objects.select_related("departure_airport").get(pk=flight.pk))

    # when they hold without choosing seats
    booking = booking_hold_create(user=customer, flight_id=flight.pk, passengers=family(travel))

    # then three seats are taken (none for the infant), each priced by its passenger's type
    seats = list(booking.seat_assignments.order_by("passenger__position"))
    assert [(seat.passenger.position, seat.cabin, seat.fare) for seat in seats] == [
        (1, "economy", Decimal("4500.00")),
        (2, "economy", Decimal("4500.00")),
        (3, "economy", Decimal("3375.00")),
    ]
    assert list(InfantFare.objects.values_list("passenger__position", "segment", "fare")) == [
        (4, 1, Decimal("450.00"))
    ]
    assert booking.total_amount == Decimal("12825.00")
    assert list(booking.passengers.values_list("position", "type", "travelling_with")) == [
        (1, "adult", None),
        (2, "adult", None),
        (3, "child", None),
        (4, "infant", 1),
    ]
    flight.refresh_from_db()
    assert flight.available_seats == available - 3
    # and the booking returned reads as the database does
    infant = booking.passengers_held[3]
    assert infant.seats() == []
    assert infant.seat_assignment is None
    assert infant.infant_fare_on(1).fare == Decimal("450.00")


def test_the_infant_pays_its_share_of_its_own_adults_cabin(strategy, customer, flight):
    # given an adult in business (15000) and one in economy (4500), the infant on the business adult's lap
    travel = travel_date(Flight.objects.select_related("departure_airport").get(pk=flight.pk))
    passengers = [body(n=1), body(n=2), body("infant", (travel - timedelta(days=100)).isoformat(), 1, n=3)]
    passengers[2]["date_of_birth"] = date.fromisoformat(passengers[2]["date_of_birth"])

    booking = booking_hold_create(
        user=customer, flight_id=flight.pk, passengers=passengers, seats=["1A", "3A"]
    )

    assert InfantFare.objects.get().fare == Decimal("1500.00")
    assert booking.total_amount == Decimal("21000.00")


def test_seats_requested_are_one_per_adult_or_child_not_per_infant(customer, flight):
    travel = travel_date(Flight.objects.select_related("departure_airport").get(pk=flight.pk))

    with pytest.raises(ValidationFailed) as refused:
        booking_hold_create(
            user=customer, flight_id=flight.pk, passengers=family(travel), seats=["3A", "3B", "3C", "3D"]
        )

    assert refused.value.errors == {"seats": ["Give 3 seat(s), one per adult or child, or leave seats out."]}
    assert not Booking.objects.exists()


def test_a_journey_prices_the_infant_on_every_flight(strategy, customer):
    outbound, back = return_pair()
    travel = travel_date(Flight.objects.select_related("departure_airport").get(pk=outbound.pk))

    booking = booking_hold_create(
        user=customer,
        segments=[{"flight_id": outbound.pk}, {"flight_id": back.pk}],
        passengers=[body(n=1), body("infant", (travel - timedelta(days=30)).isoformat(), 1, n=2)],
    )

    assert SeatAssignment.objects.filter(booking=booking).count() == 2
    assert list(InfantFare.objects.values_list("segment", "fare")) == [
        (1, Decimal("450.00")),
        (2, Decimal("450.00")),
    ]
    assert booking.total_amount == Decimal("9900.00")


def test_age_is_taken_on_the_local_departure_date(customer):
    # given a flight leaving Kolkata time 01:30 on the next day (20:00 UTC)
    start = timezone.now() + timedelta(days=5)
    flight = booking_flight(
        rows=5, departure_time=datetime(start.year, start.month, start.day, 20, 0, tzinfo=UTC)
    )
    local = (start + timedelta(days=1)).date()
    # when a child turns 2 on the local date (the day after the UTC date)
    born = (
        local.replace(year=local.year - 2)
        if (local.month, local.day) != (2, 29)
        else date(local.year - 2, 3, 1)
    )

    booking = booking_hold_create(
        user=customer, flight_id=flight.pk, passengers=[body(n=1), body("child", born.isoformat(), n=2)]
    )

    # then the child travels as a child
    assert booking.passengers.get(position=2).type == "child"


@pytest.mark.parametrize(("kind", "insert_statements"), [("adult", 3), ("infant", 4)])
def test_the_hold_inserts_three_rows_sets_and_a_fourth_only_for_infants(
    strategy, customer, flight, kind, insert_statements
):
    travel = travel_date(Flight.objects.select_related("departure_airport").get(pk=flight.pk))
    second = (
        body(n=2) if kind == "adult" else body("infant", (travel - timedelta(days=30)).isoformat(), 1, n=2)
    )

    with CaptureQueriesContext(connection) as captured:
        booking_hold_create(user=customer, flight_id=flight.pk, passengers=[body(n=1), second])

    statements = [query["sql"].replace("`", "") for query in captured.captured_queries]
    inserts = [sql.split(" (")[0] for sql in statements if sql.startswith("INSERT INTO bookings_")]
    assert inserts == [
        "INSERT INTO bookings_booking",
        "INSERT INTO bookings_passenger",
        "INSERT INTO bookings_seatassignment",
        *(["INSERT INTO bookings_infantfare"] if insert_statements == 4 else []),
    ]


def test_a_refused_party_holds_nothing(strategy, customer, flight, published):
    travel = travel_date(Flight.objects.select_related("departure_airport").get(pk=flight.pk))
    baby = (travel - timedelta(days=30)).isoformat()

    with pytest.raises(ValidationFailed):
        booking_hold_create(
            user=customer,
            flight_id=flight.pk,
            passengers=[body(n=1), body("infant", baby, 1, n=2), body("infant", baby, 1, n=3)],
        )

    assert not Booking.objects.exists()
    assert not Passenger.objects.exists()
    flight.refresh_from_db()
    assert flight.available_seats == flight.total_seats
    assert published == []


# --- The API ------------------------------------------------------------------------------------


def test_the_api_holds_a_family_and_answers_each_passengers_type(customer_client, flight):
    travel = travel_date(Flight.objects.select_related("departure_airport").get(pk=flight.pk))

    response = customer_client.post(
        URL,
        {"flight_id": flight.pk, "passengers": family(travel)},
        format="json",
        HTTP_IDEMPOTENCY_KEY=uuid.uuid4().hex,
    )

    assert response.status_code == 201, response.json()
    data = response.json()
    assert [(p["type"], p["travelling_with"], p["seat"] is None) for p in data["passengers"]] == [
        ("adult", None, False),
        ("adult", None, False),
        ("child", None, False),
        ("infant", 1, True),
    ]
    assert data["passengers"][3]["date_of_birth"] == (travel - timedelta(days=400)).isoformat()
    assert len(data["seats"]) == 3
    assert data["total_amount"] == "12825.00"


def test_the_api_refuses_a_second_infant_on_one_lap_as_a_problem_naming_the_passenger(
    customer_client, flight
):
    travel = travel_date(Flight.objects.select_related("departure_airport").get(pk=flight.pk))
    baby = (travel - timedelta(days=30)).isoformat()

    response = customer_client.post(
        URL,
        {
            "flight_id": flight.pk,
            "passengers": [body(n=1), body("infant", baby, 1, n=2), body("infant", baby, 1, n=3)],
        },
        format="json",
        HTTP_IDEMPOTENCY_KEY=uuid.uuid4().hex,
    )

    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["errors"] == {
        "passengers.2.travelling_with": [
            "Passenger 3 (infant): passenger 1 already has an infant (passenger 2) on their lap; "
            "one infant per adult."
        ]
    }
    assert not SeatAssignment.objects.exists()


# --- Where an infant shows (it has no seat) ----------------------------------------------------------


def paid_family(owner, flight: Flight) -> Booking:
    """An adult with an infant on the lap and a child of 5, paid."""
    travel = travel_date(Flight.objects.select_related("departure_airport").get(pk=flight.pk))
    return booking_paid(
        booking_hold_create(
            user=owner,
            flight_id=flight.pk,
            seats=["3A", "3B"],
            passengers=[
                {"first_name": "Asha", "last_name": "Rao"},
                {
                    "first_name": "Mira",
                    "last_name": "Rao",
                    "type": "infant",
                    "date_of_birth": travel - timedelta(days=200),
                    "travelling_with": 1,
                },
                {
                    "first_name": "Dev",
                    "last_name": "Rao",
                    "type": "child",
                    "date_of_birth": travel.replace(year=travel.year - 5),
                },
            ],
        )
    )


def test_an_infant_is_checked_in_with_its_adult_and_listed_on_that_boarding_pass():
    # given a paid booking of an adult with an infant, and a child, check-in open
    owner = UserFactory()
    booking = paid_family(owner, flight_in(24))

    # when the infant is named on its own, nothing is checked in
    with pytest.raises(ValidationFailed) as refused:
        booking_check_in(booking=booking, actor=owner, passenger_positions=[2])
    assert refused.value.errors == {
        "passengers": [
            "Passenger 2 (infant): checked in with passenger 1, on whose boarding pass the infant is listed."
        ]
    }
    assert not SeatAssignment.objects.filter(checked_in_at__isnull=False).exists()

    # when the adult and the child check in, then two passes, the infant on the adult's
    booking_check_in(booking=booking, actor=owner, passenger_positions=[1, 3])
    passes = boarding_passes(booking)
    assert [(p.passenger.first_name, p.seat_code, p.infant and p.infant.first_name) for p in passes] == [
        ("Asha", "3A", "Mira"),
        ("Dev", "3B", None),
    ]
    web = signed_in(owner)
    assert "+ INF RAO / MIRA" in web.get(f"/bookings/{booking.reference}/boarding-pass/1/").content.decode()
    assert "INF" not in web.get(f"/bookings/{booking.reference}/boarding-pass/3/").content.decode()
    page = web.get(f"/bookings/{booking.reference}/check-in/").content.decode()
    assert "infant, on the lap of passenger 1" in page
    assert 'name="passenger" value="2"' not in page


def test_the_manifest_gives_each_seat_its_passengers_type_and_the_infant_on_the_lap(
    client, staff_user, flight
):
    booking = paid_family(UserFactory(), flight)
    client.force_login(staff_user)

    response = client.get(reverse("flight_operations:manifest_csv", args=[flight.pk]))

    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert [row[4:] for row in rows[1:]] == [
        ["Adult", booking.reference, "Confirmed", "no", "Mira Rao"],
        ["Child", booking.reference, "Confirmed", "no", ""],
    ]
    page = client.get(reverse("flight_operations:page", args=[flight.pk])).content.decode()
    assert "+ infant Mira Rao" in page


def test_the_confirmation_email_lists_the_child_and_the_infant_without_a_seat(flight):
    booking = paid_family(UserFactory(), flight)

    notifications_create(booking=booking, kinds=[Notification.Kind.BOOKING_CONFIRMED])
    notification = Notification.objects.get(booking=booking, kind=Notification.Kind.BOOKING_CONFIRMED)
    assert notification_send(notification_id=notification.pk) is True

    (confirmed,) = mail.outbox
    assert "Asha Rao                         Seat 3A" in confirmed.body
    assert "Mira Rao (infant, on the lap of passenger 1) Seat -" in confirmed.body
    assert "Dev Rao (child)                  Seat 3B" in confirmed.body


# --- The website ----------------------------------------------------------------------------------


def family_form(travel: date, infant_born: date) -> dict[str, str]:
    """The passenger page as the browser posts it: two adults, a child of 5, an infant on the first's lap."""
    data = {
        "idempotency_key": uuid.uuid4().hex,
        "passenger-TOTAL_FORMS": "4",
        "passenger-INITIAL_FORMS": "0",
        "passenger-MIN_NUM_FORMS": "4",
        "passenger-MAX_NUM_FORMS": "4",
    }
    people = [
        ("Asha", "adult", "", ""),
        ("Vikram", "adult", "", ""),
        ("Dev", "child", travel.replace(year=travel.year - 5).isoformat(), ""),
        ("Mira", "infant", infant_born.isoformat(), "1"),
    ]
    for index, (first, kind, born, lap) in enumerate(people):
        data |= {
            f"passenger-{index}-first_name": first,
            f"passenger-{index}-last_name": "Rao",
            f"passenger-{index}-type": kind,
            f"passenger-{index}-date_of_birth": born,
            f"passenger-{index}-travelling_with": lap,
        }
    return data


def test_the_passenger_page_offers_an_infant_on_top_of_the_seats(client, customer, flight):
    client.force_login(customer)

    page = client.get(f"/bookings/new/?flight={flight.pk}&seats=3A&seats=3B")
    with_infant = client.get(f"/bookings/new/?flight={flight.pk}&seats=3A&seats=3B&infants=1")

    assert page.context["formset"].total_form_count() == 2
    assert "seats=3B&amp;infants=1" in page.content.decode()
    formset = with_infant.context["formset"]
    assert formset.total_form_count() == 3
    assert formset.forms[2].initial == {"type": "infant", "travelling_with": 1}
    assert "seats=3B&amp;infants=2" in with_infant.content.decode()  # a second adult, a second lap
    assert (
        "a child pays 75&nbsp;% of its seat's fare and an infant on a lap 10&nbsp;%" in page.content.decode()
    )


def test_the_passenger_page_holds_seats_for_adults_and_children_and_shows_the_infant_on_the_pay_page(
    client, customer, flight
):
    client.force_login(customer)
    travel = travel_date(Flight.objects.select_related("departure_airport").get(pk=flight.pk))
    url = f"/bookings/new/?flight={flight.pk}&seats=3A&seats=3B&seats=3C&infants=1"

    response = client.post(url, family_form(travel, travel - timedelta(days=300)), follow=True)

    booking = Booking.objects.get()
    assert response.redirect_chain == [(f"/bookings/{booking.reference}/pay/", 302)]
    assert sorted(booking.seat_assignments.values_list("seat_code", flat=True)) == ["3A", "3B", "3C"]
    assert booking.total_amount == Decimal("12825.00")
    html = response.content.decode()
    assert '<dt>Dev Rao (child)</dt><dd data-testid="passenger-fare">3C · ₹3,375</dd>' in html
    assert (
        '<dt>Mira Rao (infant)</dt><dd data-testid="passenger-fare">On the lap of traveller 1 · ₹450</dd>'
        in html
    )
    assert "<strong>₹12,825</strong>" in html


def test_the_passenger_page_shows_an_age_refusal_under_the_travellers_date_of_birth(client, customer, flight):
    client.force_login(customer)
    travel = travel_date(Flight.objects.select_related("departure_airport").get(pk=flight.pk))
    url = f"/bookings/new/?flight={flight.pk}&seats=3A&seats=3B&seats=3C&infants=1"

    response = client.post(url, family_form(travel, travel.replace(year=travel.year - 3)))

    assert response.status_code == 400
    assert response.context["formset"].forms[3].errors == {
        "date_of_birth": [
            f"Passenger 4 (infant): an infant is under 2 on the date of travel ({travel}); "
            "this passenger is 3."
        ]
    }
    assert not Booking.objects.exists()
    flight.refresh_from_db()
    assert flight.available_seats == flight.total_seats


def test_the_e_ticket_and_the_admin_booking_page_show_each_type_and_the_infants_fare(
    client, admin_user, flight
):
    owner = UserFactory()
    booking = paid_family(owner, flight)

    ticket = signed_in(owner).get(f"/bookings/{booking.reference}/").content.decode()
    client.force_login(admin_user)
    admin_page = client.get(reverse("admin:bookings_booking_change", args=[booking.pk])).content.decode()

    assert "Mira RAO (infant)</td>\n          <td>On the lap of traveller 1</td>" in ticket
    assert "Dev RAO (child)</td>" in ticket
    assert "flight 1: 450.00" in admin_page
    assert "Infant fares (no seat)" in admin_page


def test_the_journey_page_holds_an_infant_on_every_flight_without_a_seat(client, customer):
    route = route_bom_del()
    back = return_flight(route.midday)
    client.force_login(customer)
    travel = travel_date(Flight.objects.select_related("departure_airport").get(pk=route.midday.pk))
    url = f"/bookings/new/?flights={route.midday.pk}&flights={back.pk}&count=1"
    page = client.get(url)
    data = family_form(travel, travel - timedelta(days=300))
    data |= {"passenger-TOTAL_FORMS": "2", "passenger-MIN_NUM_FORMS": "2", "passenger-MAX_NUM_FORMS": "2"}
    data |= {
        f"passenger-1-{field}": data[f"passenger-3-{field}"]
        for field in ("first_name", "type", "date_of_birth", "travelling_with")
    }

    response = client.post(f"{url}&infants=1", data)

    assert "count=1&amp;infants=1" in page.content.decode()
    booking = Booking.objects.get()
    assert response["Location"] == f"/bookings/{booking.reference}/pay/"
    assert list(booking.seat_assignments.values_list("segment", "passenger__position")) == [(1, 1), (2, 1)]
    assert list(InfantFare.objects.values_list("segment", "passenger__position")) == [(1, 2), (2, 2)]
    assert booking.total_amount == sum(
        (seat.fare * Decimal("1.1") for seat in booking.seat_assignments.all()), Decimal("0")
    )


def test_the_database_refuses_an_infant_without_an_adult_and_an_adult_on_a_lap(customer, flight):
    booking = booking_hold_create(user=customer, flight_id=flight.pk, passengers=[body(n=1)])
    adult = booking.passengers.get()

    with pytest.raises(IntegrityError), transaction.atomic():
        Passenger.objects.create(booking=booking, position=2, first_name="M", last_name="R", type="infant")
    with pytest.raises(IntegrityError), transaction.atomic():
        Passenger.objects.filter(pk=adult.pk).update(travelling_with=1)

    assert booking.passengers.count() == 1


def test_cancelling_refunds_the_infants_fare_too_under_its_adults_rule(customer, monkeypatch):
    booking = paid_family(customer, booking_flight())
    infant_fare = InfantFare.objects.get(passenger__booking=booking).fare

    full = booking_cancellation_quote(booking=booking, actor=customer)
    monkeypatch.setattr(refund_rules, "refund_rule_for", lambda seat: RefundRule("fee", Decimal("100")))
    with_fee = booking_cancellation_quote(booking=booking, actor=customer)

    assert full.amount == booking.total_amount  # the two seats and the infant's fare
    assert [(line.seat_code, line.amount) for line in full.lines if not line.seat_code] == [("", infant_fare)]
    assert with_fee.amount == booking.total_amount - 3 * Decimal("100")
    booking_cancel(booking=booking, actor=customer, expected_refund=with_fee.amount)
    assert list(Refund.objects.filter(payment__booking=booking).values_list("amount", flat=True)) == [
        with_fee.amount
    ]
