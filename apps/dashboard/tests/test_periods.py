"""Days of the business time zone: exact instants, a daylight-saving change included."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from apps.dashboard.periods import Days


def test_a_week_ending_today_has_seven_days_and_eight_boundaries():
    days = Days.ending_on(date(2026, 12, 1), 7, ZoneInfo("Asia/Kolkata"))

    assert days.dates[0] == date(2026, 11, 25)
    assert days.dates[-1] == date(2026, 12, 1)
    assert len(days.boundaries) == 8
    assert days.start.astimezone(UTC) == datetime(2026, 11, 24, 18, 30, tzinfo=UTC)
    assert days.end.astimezone(UTC) == datetime(2026, 12, 1, 18, 30, tzinfo=UTC)


def test_the_day_clocks_go_forward_is_23_hours_long():
    # London went to summer time at 01:00 UTC on 29 March 2026
    days = Days.ending_on(date(2026, 3, 30), 3, ZoneInfo("Europe/London"))

    instants = [boundary.astimezone(UTC) for boundary in days.boundaries]
    lengths = [later - earlier for earlier, later in zip(instants, instants[1:], strict=False)]

    assert lengths == [timedelta(hours=24), timedelta(hours=23), timedelta(hours=24)]
    assert days.boundaries[2].astimezone(UTC) == datetime(2026, 3, 29, 23, 0, tzinfo=UTC)
