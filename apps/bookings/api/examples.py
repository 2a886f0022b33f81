"""Worked examples for the OpenAPI document (/api/docs/) of changing a flight (docs/API.md, "Changing a
flight"): an Economy Saver traveller of ₹4,500 moving to a later flight that sells the Saver at ₹5,000."""

from typing import Any

from drf_spectacular.utils import OpenApiExample


def _airport(code: str, name: str, city: str, zone: str) -> dict[str, Any]:
    return {"code": code, "name": name, "city": city, "country": "IN", "time_zone": zone}


def _flight(
    flight_id: int, number: str, departs: str, arrives: str, local: tuple[str, str]
) -> dict[str, Any]:
    return {
        "id": flight_id,
        "flight_number": number,
        "departure_airport": _airport("DEL", "Indira Gandhi International Airport", "Delhi", "Asia/Kolkata"),
        "arrival_airport": _airport(
            "BOM", "Chhatrapati Shivaji Maharaj International Airport", "Mumbai", "Asia/Kolkata"
        ),
        "airplane": {"id": 3, "model_name": "A320neo", "registration": "VT-EXA"},
        "departure_time": departs,
        "arrival_time": arrives,
        "departure_local": local[0],
        "arrival_local": local[1],
        "duration_minutes": 130,
        "currency": "INR",
        "base_fare": "5000.00",
        "fares": {"business": "16000.00", "economy": "5000.00"},
        "gate": "",
        "status": "scheduled",
        "total_seats": 180,
        "available_seats": 57,
    }


FROM_FLIGHT = _flight(
    12,
    "AI101",
    "2027-03-04T03:30:00Z",
    "2027-03-04T05:40:00Z",
    ("2027-03-04T09:00:00+05:30", "2027-03-04T11:10:00+05:30"),
)
TO_FLIGHT = _flight(
    57,
    "AI107",
    "2027-03-04T09:30:00Z",
    "2027-03-04T11:40:00Z",
    ("2027-03-04T15:00:00+05:30", "2027-03-04T17:10:00+05:30"),
)

CHANGE_QUOTE = {
    "reference": "K7TQ2M",
    "segment": 1,
    "currency": "INR",
    "from_flight": FROM_FLIGHT,
    "to_flight": TO_FLIGHT,
    "lines": [
        {
            "passenger": "Asha Rao",
            "type": "adult",
            "seat": "14C",
            "fare_family": "ECO_SAVER",
            "old_price": "4500.00",
            "new_price": "5000.00",
            "difference": "500.00",
            "fee": "3000.00",
            "refundable": False,
        }
    ],
    "old_fares": "4500.00",
    "new_fares": "5000.00",
    "fare_difference": "500.00",
    "change_fee": "3000.00",
    "residual_kept": "0.00",
    "amount_due": "3500.00",
    "refund_due": "0.00",
    "quote": "eyJyZWZlcmVuY2UiOiJLN1RRMk0iLCJzZWdtZW50IjoxfQ:1tQ8Xz:signature",
    "expires_at": "2027-02-20T10:15:00Z",
}

CHANGE_QUOTE_EXAMPLE = OpenApiExample(
    "A dearer Saver",
    summary="₹500 more on the new flight and the Saver's ₹3,000 change fee",
    value=CHANGE_QUOTE,
    response_only=True,
    status_codes=["200"],
)
