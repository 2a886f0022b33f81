import random

from apps.bookings.services import seat_selection
from apps.flights.seating import Layout, Seat, layout_positions, seats_marked


def layout(rows: range, letters: str, cabin: str = "economy") -> Layout:
    return ((cabin, rows.start, rows.stop - 1, letters),)


def seats_choose(*, seats: Layout, taken: set[str], count: int, rng=None) -> list[Seat] | None:
    """The chooser on a plan selling every cabin of `seats`, with the seats `taken` marked."""
    positions = layout_positions(seats)
    marks = seats_marked("", [positions[code] for code in taken], "1")
    plan = seat_selection.seat_plan(seats, frozenset(cabin for cabin, *_ in seats))
    return seat_selection.seats_choose(plan=plan, taken=marks, count=count, rng=rng)


def codes(seats: list[Seat] | None) -> list[str] | None:
    return None if seats is None else [seat.code for seat in seats]


def test_first_free_seats_side_by_side():
    seats = layout(range(1, 4), "ABCDEF")

    assert codes(seats_choose(seats=seats, taken={"1A"}, count=3)) == ["1B", "1C", "1D"]


def test_a_row_with_room_for_the_group_beats_a_split():
    seats = layout(range(1, 3), "ABCD")

    assert codes(seats_choose(seats=seats, taken={"1B", "1C", "2B"}, count=3)) == ["2A", "2C", "2D"]
    assert codes(seats_choose(seats=seats, taken={"1B", "2A"}, count=2)) == ["1C", "1D"]
    assert codes(seats_choose(seats=seats, taken={"1B", "2B"}, count=2)) == ["1C", "1D"]
    assert codes(seats_choose(seats=seats, taken={"1B", "1D", "2B", "2C"}, count=2)) == ["1A", "1C"]


def test_a_group_is_split_over_rows_only_when_no_row_has_room():
    seats = layout(range(1, 3), "AB")

    assert codes(seats_choose(seats=seats, taken={"1A", "2A"}, count=2)) == ["1B", "2B"]


def test_the_cheapest_cabin_with_room_for_the_whole_booking_first():
    seats = layout(range(1, 2), "AC", cabin="business") + layout(range(2, 3), "ABC")

    assert codes(seats_choose(seats=seats, taken=set(), count=2)) == ["2A", "2B"]
    assert codes(seats_choose(seats=seats, taken={"2A", "2B"}, count=2)) == ["1A", "1C"]


def test_a_booking_spans_cabins_only_when_no_cabin_has_room():
    seats = layout(range(1, 2), "AC", cabin="business") + layout(range(2, 3), "ABC")

    assert codes(seats_choose(seats=seats, taken={"1C", "2A", "2B"}, count=2)) == ["2C", "1A"]


def test_not_enough_free_seats_is_none():
    seats = layout(range(1, 2), "AB")

    assert seats_choose(seats=seats, taken={"1A"}, count=2) is None


def test_random_start_spreads_buyers_over_the_cabin():
    seats = layout(range(1, 31), "ABCDEF")
    rng = random.Random(7)

    picks = {codes(seats_choose(seats=seats, taken=set(), count=1, rng=rng))[0] for _ in range(50)}

    assert len(picks) > 30
