"""Days in the airline's business time zone, and how a query sorts a timestamp into them.

The dashboard counts days in `SALES_DASHBOARD_TIME_ZONE` (an IANA zone, airline/settings/base.py).
Grouping by a database's own date-in-a-zone function would need MariaDB's time zone tables
(`CONVERT_TZ` with a zone name answers NULL without them) and differ from SQLite; instead each day's
start is computed here, in Python, as an exact instant (a 23- or 25-hour day across a daylight-saving
change included), and the query maps a timestamp to its day's number with a CASE over those
instants. The same SQL then runs on MariaDB and SQLite, and the filter on the timestamp's column
stays an index range.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Case, IntegerField, Q, Value, When

PERIOD_CHOICES = (7, 30, 90)
DEFAULT_PERIOD_DAYS = 30


def business_time_zone() -> tzinfo:
    return ZoneInfo(settings.SALES_DASHBOARD_TIME_ZONE)


def local_midnight(day: date, zone: tzinfo) -> datetime:
    """The instant `day` begins in `zone` (aware)."""
    return datetime.combine(day, time.min, tzinfo=zone)


@dataclass(frozen=True)
class Days:
    """Consecutive local days, `first` to `last`, and the instants that bound them."""

    first: date
    count: int
    zone: tzinfo

    @classmethod
    def ending_on(cls, last: date, count: int, zone: tzinfo) -> "Days":
        return cls(first=last - timedelta(days=count - 1), count=count, zone=zone)

    @property
    def dates(self) -> list[date]:
        return [self.first + timedelta(days=offset) for offset in range(self.count)]

    @property
    def boundaries(self) -> list[datetime]:
        """count + 1 instants: each day's start, then the end of the last day."""
        return [
            local_midnight(self.first + timedelta(days=offset), self.zone) for offset in range(self.count + 1)
        ]

    @property
    def start(self) -> datetime:
        return self.boundaries[0]

    @property
    def end(self) -> datetime:
        return self.boundaries[-1]

    def within(self, field: str) -> Q:
        """`field` falls in one of the days (a range on the column, so its index serves)."""
        return Q(**{f"{field}__gte": self.start, f"{field}__lt": self.end})

    def day_number(self, field: str) -> Case:
        """0 for a `field` in the first day, 1 for the second …; rows must be filtered by `within`."""
        boundaries = self.boundaries
        return Case(
            *(
                When(**{f"{field}__lt": boundaries[offset + 1]}, then=Value(offset))
                for offset in range(self.count)
            ),
            default=Value(None),
            output_field=IntegerField(),
        )
