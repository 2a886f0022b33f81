"""A journey's address (apps/flights/journey_links.py): the fare family chosen per flight, the infants on
the travellers' laps, and the results' choice of a flight in a family, read back exactly as our pages
write them; anything else is a JourneyLinkInvalid with a sentence, never a 500."""

from urllib.parse import parse_qs

import pytest
from django.http import QueryDict

from apps.flights.journey_links import (
    JourneyLink,
    JourneyLinkInvalid,
    journey_flight_choice_parse,
    journey_link_parse,
)


def link(query: str) -> JourneyLink:
    return journey_link_parse(QueryDict(query))


def test_each_flights_family_and_the_infants_are_read_and_written_back_the_same():
    # given the address of a return for two with an infant, a family on each flight and seats on the second
    query = "flights=12&flights=57&count=2&infants=1&family_1=ECO_FLEX&family_2=eco_saver&seats_2=7C,7D"

    journey = link(query)

    assert journey == JourneyLink(
        flight_ids=(12, 57),
        count=2,
        seats={2: ["7C", "7D"]},
        families={1: "ECO_FLEX", 2: "ECO_SAVER"},
        infants=1,
    )
    assert journey.query() == (
        "flights=12&flights=57&count=2&infants=1&family_1=ECO_FLEX&family_2=ECO_SAVER&seats_2=7C,7D"
    )
    assert link(journey.query()) == journey


def test_a_journey_without_families_or_infants_writes_the_address_it_wrote_before():
    journey = link("flights=12&flights=57&count=2&family_2=&infants=0&seats_1=3A,3B")

    assert journey.families == {}
    assert journey.infants == 0
    assert journey.query() == "flights=12&flights=57&count=2&seats_1=3A,3B"


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("family_1=ECO FLEX", "A fare was chosen that is not one we sell."),
        ("family_1=<script>", "A fare was chosen that is not one we sell."),
        ("family_1=1ECO", "A fare was chosen that is not one we sell."),
        ("family_1=E", "A fare was chosen that is not one we sell."),
        ("family_1=ECO_FLEX_WITH_A_VERY_LONG_NAME", "A fare was chosen that is not one we sell."),
        ("family_1=ÉCO_FLEX", "A fare was chosen that is not one we sell."),
        ("family_3=ECO_FLEX", "A fare was chosen for a flight that is not in this journey."),
        ("family_0=ECO_FLEX", "A fare was chosen for a flight that is not in this journey."),
        ("family_x=ECO_FLEX", "A fare was chosen for a flight that is not in this journey."),
        ("family_001=ECO_FLEX", "A fare was chosen for a flight that is not in this journey."),
        ("family_٢=ECO_FLEX", "A fare was chosen for a flight that is not in this journey."),
        ("infants=3", "A journey has at most one infant per traveller and 9 travellers in all."),
        ("infants=-1", "A journey has at most one infant per traveller and 9 travellers in all."),
        ("infants=one", "A journey has at most one infant per traveller and 9 travellers in all."),
        ("infants=²", "A journey has at most one infant per traveller and 9 travellers in all."),
    ],
)
def test_junk_families_and_infants_are_refused_with_a_sentence(query, message):
    with pytest.raises(JourneyLinkInvalid) as refused:
        link(f"flights=12&flights=57&count=2&{query}")

    assert str(refused.value) == message


def test_infants_beyond_the_party_size_are_refused():
    assert link("flights=12&flights=57&count=4&infants=4").infants == 4
    with pytest.raises(JourneyLinkInvalid):
        link("flights=12&flights=57&count=5&infants=5")  # ten travellers


def test_changing_one_flights_family_keeps_the_other_flights_choices_and_starts_its_seats_over():
    journey = link("flights=12&flights=57&count=2&infants=1&family_1=ECO_SAVER&seats_1=3A,3B&seats_2=7C,7D")

    changed = journey.with_family(2, "ECO_FLEX")
    unchanged = journey.with_family(1, "ECO_SAVER")
    dropped = journey.with_family(1, None)

    assert changed.families == {1: "ECO_SAVER", 2: "ECO_FLEX"}
    assert changed.seats == {1: ["3A", "3B"]}  # flight 2's seats were priced in its old fare
    assert changed.infants == 1
    assert unchanged == journey
    assert dropped.families == {}
    assert dropped.seats == {2: ["7C", "7D"]}


def test_seats_put_in_keep_the_families_and_the_infants():
    journey = link("flights=12&flights=57&count=1&infants=1&family_1=ECO_FLEX&family_2=ECO_SAVER")

    seated = journey.with_seats(2, ["9A"])

    assert seated.families == {1: "ECO_FLEX", 2: "ECO_SAVER"}
    assert seated.infants == 1
    assert parse_qs(seated.passengers_url().split("?", 1)[1]) == {
        "flights": ["12", "57"],
        "count": ["1"],
        "infants": ["1"],
        "family_1": ["ECO_FLEX"],
        "family_2": ["ECO_SAVER"],
        "seats_2": ["9A"],
    }


def test_the_seat_map_form_carries_everything_but_its_own_flights_seats():
    journey = link("flights=12&flights=57&count=2&infants=1&family_2=ECO_FLEX&seats_1=3A,3B&seats_2=7C,7D")

    assert journey.query_pairs(without_seats_of=2) == [
        ("flights", 12),
        ("flights", 57),
        ("count", 2),
        ("infants", 1),
        ("family_2", "ECO_FLEX"),
        ("seats_1", "3A,3B"),
    ]


@pytest.mark.parametrize(
    ("value", "choice"),
    [("57", (57, None)), ("57-ECO_FLEX", (57, "ECO_FLEX")), (" 57-eco_saver ", (57, "ECO_SAVER"))],
)
def test_a_results_choice_is_a_flight_with_or_without_its_family(value, choice):
    assert journey_flight_choice_parse(value) == choice


@pytest.mark.parametrize(
    "value", ["", "x", "0", "57-", "57-ECO FLEX", "57-1ECO", "-ECO_FLEX", "57-ECO-FLEX", "٥٧", "57-ÉCO"]
)
def test_a_results_choice_our_page_never_sends_is_refused(value):
    with pytest.raises(JourneyLinkInvalid, match="Choose one flight for each part of the trip."):
        journey_flight_choice_parse(value)
