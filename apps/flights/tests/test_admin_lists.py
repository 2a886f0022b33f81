"""The flights list staff work from: local times, the filters and searches they use, its query count."""

from datetime import UTC, date, datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from apps.core.testing.admin import changelist_queries
from apps.flights.models import Flight
from apps.flights.tests.factories import AirportFactory, CityFactory, FlightFactory, mumbai_airport

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:flights_flight_changelist")
# Next December: Sydney keeps daylight saving time (AEDT, UTC+11) then, Mumbai is UTC+5:30 all year.
YEAR = timezone.now().year + 1


@pytest.fixture
def staff_browser(client, staff_user):
    client.force_login(staff_user)
    return client


@pytest.fixture
def sydney(db):
    return AirportFactory(
        iata_code="SYD",
        name="Sydney Kingsford Smith",
        city=CityFactory(name="Sydney", country="AU"),
        time_zone="Australia/Sydney",
    )


@pytest.fixture
def melbourne(db):
    return AirportFactory(
        iata_code="MEL",
        name="Melbourne Tullamarine",
        city=CityFactory(name="Melbourne", country="AU"),
        time_zone="Australia/Melbourne",
    )


def shown(response) -> list[int]:
    return [flight.pk for flight in response.context["cl"].result_list]


def test_departure_is_shown_on_the_airports_clock_with_its_zone_and_utc_on_hover(
    staff_browser, melbourne, sydney
):
    # given a flight leaving Sydney at 23:15 UTC on 19 December: 10:15 on the 20th in Sydney
    flight = FlightFactory(
        flight_number="QF401",
        departure_airport=sydney,
        arrival_airport=melbourne,
        departure_time=datetime(YEAR, 12, 19, 23, 15, tzinfo=UTC),
    )

    page = staff_browser.get(CHANGELIST).content.decode()

    weekday = f"{date(YEAR, 12, 20):%a}"
    assert f">{weekday} 20 Dec 10:15 AEDT</time>" in page
    assert f'title="{date(YEAR, 12, 19):%a} 19 Dec {YEAR}, 23:15 UTC"' in page
    assert "SYD&nbsp;→&nbsp;MEL" in page
    assert f"{flight.available_seats} / {flight.total_seats}" in page
    assert "₹4,500" in page


def test_the_detail_page_shows_local_and_utc_times_and_a_link_to_the_flights_bookings(
    staff_browser, melbourne, sydney
):
    flight = FlightFactory(
        departure_airport=sydney,
        arrival_airport=melbourne,
        departure_time=datetime(YEAR, 12, 19, 23, 15, tzinfo=UTC),
    )

    page = staff_browser.get(reverse("admin:flights_flight_change", args=[flight.pk])).content.decode()

    assert "20 Dec 10:15 AEDT" in page
    assert f"19 Dec {YEAR}, 23:15 UTC" in page
    assert f'href="{reverse("admin:bookings_booking_changelist")}?flight={flight.pk}"' in page


def test_the_departure_date_filter_means_the_local_date_at_the_departure_airport(staff_browser, sydney):
    # given flights on 20 December at their departure airports, and one on the 20th in UTC only
    mumbai = mumbai_airport()
    sydney_morning = FlightFactory(  # 10:15 on the 20th in Sydney, the 19th in UTC
        departure_airport=sydney, departure_time=datetime(YEAR, 12, 19, 23, 15, tzinfo=UTC)
    )
    mumbai_dawn = FlightFactory(  # 04:45 on the 20th in Mumbai, the 19th in UTC
        departure_airport=mumbai, departure_time=datetime(YEAR, 12, 19, 23, 15, tzinfo=UTC)
    )
    mumbai_late = FlightFactory(  # 20:00 on the 20th in UTC, already the 21st in Mumbai
        departure_airport=mumbai, departure_time=datetime(YEAR, 12, 20, 20, 0, tzinfo=UTC)
    )
    sydney_evening = FlightFactory(  # 23:30 on the 20th in Sydney
        departure_airport=sydney, departure_time=datetime(YEAR, 12, 20, 12, 30, tzinfo=UTC)
    )

    # when staff ask for the 20th
    response = staff_browser.get(CHANGELIST, {"departure_date": f"{YEAR}-12-20"})

    # then they get the flights leaving on the 20th where they leave from, in departure order
    assert shown(response) == [sydney_morning.pk, mumbai_dawn.pk, sydney_evening.pk]
    assert mumbai_late.pk not in shown(response)


def test_the_departure_date_filter_refuses_a_date_that_is_not_one(staff_browser):
    response = staff_browser.get(CHANGELIST, {"departure_date": "20 Dec"})

    assert response.status_code == 302  # Django's admin: back to the list with ?e=1
    assert response["Location"].endswith("?e=1")


@pytest.mark.parametrize(
    "term", ["MEL-SYD", "mel-syd", "MEL → SYD", "Melbourne-Sydney", "melbourne - sydney"]
)
def test_a_route_finds_its_flights_and_not_the_return_ones(staff_browser, melbourne, sydney, term):
    out = FlightFactory(departure_airport=melbourne, arrival_airport=sydney)
    FlightFactory(departure_airport=sydney, arrival_airport=melbourne)  # the way back
    FlightFactory()  # elsewhere

    response = staff_browser.get(CHANGELIST, {"q": term})

    assert shown(response) == [out.pk]


@pytest.mark.parametrize("term", ["Melbourne", "melb", "MEL"])
def test_a_city_or_airport_finds_the_flights_from_and_to_it(staff_browser, melbourne, sydney, term):
    out = FlightFactory(departure_airport=melbourne, arrival_airport=sydney)
    back = FlightFactory(
        departure_airport=sydney,
        arrival_airport=melbourne,
        departure_time=out.departure_time + timedelta(hours=5),
    )
    FlightFactory()

    response = staff_browser.get(CHANGELIST, {"q": term})

    assert shown(response) == [out.pk, back.pk]


def test_a_flight_number_finds_its_flights(staff_browser):
    wanted = FlightFactory(flight_number="QF401")
    FlightFactory(flight_number="AI401")

    response = staff_browser.get(CHANGELIST, {"q": "qf40"})

    assert shown(response) == [wanted.pk]


def test_the_list_shows_upcoming_flights_soonest_first_and_past_ones_on_request(staff_browser):
    later = FlightFactory(departure_time=timezone.now() + timedelta(days=9))
    sooner = FlightFactory(departure_time=timezone.now() + timedelta(hours=3))
    past = FlightFactory(departure_time=timezone.now() - timedelta(days=2))

    default = staff_browser.get(CHANGELIST)
    departed = staff_browser.get(CHANGELIST, {"when": "past"})
    searched = staff_browser.get(CHANGELIST, {"q": past.flight_number})

    assert shown(default) == [sooner.pk, later.pk]
    assert shown(departed) == [past.pk]
    assert past.pk in shown(searched)  # a search looks at every flight


def test_the_route_filter_lists_the_routes_flown(staff_browser, melbourne, sydney):
    out = FlightFactory(departure_airport=melbourne, arrival_airport=sydney)
    FlightFactory(departure_airport=sydney, arrival_airport=melbourne)

    response = staff_browser.get(CHANGELIST, {"route": "MEL-SYD"})

    assert shown(response) == [out.pk]
    assert "MEL → SYD" in response.content.decode()
    assert "SYD → MEL" in response.content.decode()


def test_staff_without_the_bookings_permission_get_no_bookings_column(client, bare_staff_user, staff_user):
    from django.contrib.auth.models import Permission

    FlightFactory()
    bare_staff_user.user_permissions.add(Permission.objects.get(codename="view_flight"))
    client.force_login(bare_staff_user)
    without = client.get(CHANGELIST).content.decode()
    client.force_login(staff_user)
    with_permission = client.get(CHANGELIST).content.decode()

    assert "?flight=" not in without
    assert "?flight=" in with_permission


def _flights(count: int, **fields) -> list[Flight]:
    return [FlightFactory(**fields) for _ in range(count)]


@pytest.mark.parametrize(
    "params", [{}, {"q": "MEL-SYD"}, {"q": "Melbourne"}, {"departure_date": f"{YEAR}-12-20"}]
)
def test_the_flights_list_costs_the_same_queries_for_3_rows_as_for_30(
    staff_browser, melbourne, sydney, params
):
    on_the_day = {"departure_time": datetime(YEAR, 12, 19, 23, 15, tzinfo=UTC)}
    _flights(3, departure_airport=melbourne, arrival_airport=sydney, **on_the_day)
    few = changelist_queries(staff_browser, CHANGELIST, params)
    _flights(27, departure_airport=melbourne, arrival_airport=sydney, **on_the_day)

    many = changelist_queries(staff_browser, CHANGELIST, params)

    assert len(staff_browser.get(CHANGELIST, params).context["cl"].result_list) == 30
    assert len(many) == len(few), "\n".join(many)
    assert len(many) <= 16, "\n".join(many)
