"""The hold's hand-written input check answers exactly what its documented serializer would."""

import pytest
from rest_framework import serializers

from apps.bookings.api.inputs import HoldInput, hold_input
from apps.core.api.exception_handler import flatten_errors
from apps.core.exceptions import ValidationFailed

NAMES = {"first_name": "Asha", "last_name": "Rao"}

BODIES = [
    {},
    [],
    "flight",
    {"flight_id": 7, "passengers": [NAMES]},
    {"flight_id": "7", "passengers": [NAMES], "seats": ["12A"]},
    {"flight_id": 7.0, "passengers": [NAMES, NAMES], "seats": []},
    {"flight_id": "12.00", "passengers": [{"first_name": 5, "last_name": 6.5}]},
    {"flight_id": True, "passengers": "x"},
    {"flight_id": None, "passengers": None, "seats": None},
    {"flight_id": 0, "passengers": [], "seats": "12A"},
    {"flight_id": -3, "passengers": [NAMES] * 10, "seats": ["1A"] * 10},
    {"flight_id": 1.5, "passengers": [1, [], NAMES], "seats": [1, "12345", None, True, {"a": 1}]},
    {"flight_id": "1e3", "passengers": [{"first_name": "a" * 101, "last_name": True}]},
    {"flight_id": "x" * 1001, "passengers": [{"first_name": "  ", "last_name": ""}]},
    {"flight_id": 2**63, "passengers": [{}]},
    {"flight_id": [7], "passengers": [{"first_name": None, "last_name": {"x": 1}}]},
    {
        "flight_id": " 42 ",
        "passengers": [{"first_name": " Asha ", "last_name": "Rao", "extra": 1}],
        "more": 2,
    },
    {
        "flight_id": 7,
        "passengers": [
            {**NAMES, "type": "adult", "date_of_birth": None, "travelling_with": None},
            {**NAMES, "type": "child", "date_of_birth": "2018-02-28"},
            {**NAMES, "type": "infant", "date_of_birth": "2025-02-28", "travelling_with": "1"},
        ],
    },
    {
        "flight_id": 7,
        "passengers": [
            {**NAMES, "type": "baby", "date_of_birth": "2025-02-30", "travelling_with": 0},
            {**NAMES, "type": None, "date_of_birth": 20250228, "travelling_with": 10},
            {**NAMES, "type": True, "date_of_birth": "28/02/2025", "travelling_with": "x"},
            {**NAMES, "type": "Adult", "date_of_birth": "20250228", "travelling_with": 1.5},
            {**NAMES, "type": 1, "date_of_birth": [], "travelling_with": True},
            {**NAMES, "type": "", "date_of_birth": "", "travelling_with": {"a": 1}},
            {**NAMES, "type": "infant", "date_of_birth": "2025-01-01T00:00:00"},
        ],
    },
]


@pytest.mark.parametrize("body", BODIES)
def test_the_hand_written_check_agrees_with_the_serializer(body):
    serializer = HoldInput(data=body)

    if serializer.is_valid():
        expected = dict(serializer.validated_data)
        expected["passengers"] = [dict(passenger) for passenger in expected["passengers"]]
        assert hold_input(body) == expected
    else:
        with pytest.raises(ValidationFailed) as refused:
            hold_input(body)
        assert refused.value.errors == flatten_errors(serializers.ValidationError(serializer.errors).detail)


def test_a_name_or_seat_given_as_a_number_is_refused_as_the_schema_says_text():
    with pytest.raises(ValidationFailed) as refused:
        hold_input({"flight_id": 7, "passengers": [{"first_name": 5, "last_name": "Rao"}], "seats": [12]})

    assert refused.value.errors == {
        "passengers.0.first_name": ["Not a valid string."],
        "seats.0": ["Not a valid string."],
    }
