from datetime import timedelta
from decimal import Decimal

import factory
from django.utils import timezone

from apps.flights.models import Airplane, Airport, Cabin, CabinSection, City, FareFamily, Flight
from apps.flights.services.fares import flight_family_fares_set


class CityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = City
        django_get_or_create = ("name", "country")

    name = factory.Sequence(lambda n: f"City {n}")
    country = "IN"


class AirportFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Airport
        django_get_or_create = ("iata_code",)

    iata_code = factory.Sequence(lambda n: "".join(chr(65 + (n // 26**i) % 26) for i in (2, 1, 0)))
    name = factory.LazyAttribute(lambda o: f"{o.iata_code} International")
    city = factory.SubFactory(CityFactory)
    time_zone = "Asia/Kolkata"
    latitude = 19.09
    longitude = 72.87


class AirplaneFactory(factory.django.DjangoModelFactory):
    """An airplane with a simple layout: `rows` rows of `letters`, the first `business_rows` business."""

    class Meta:
        model = Airplane
        skip_postgeneration_save = True

    model_name = "A320"
    registration = factory.Sequence(lambda n: f"VT-{n:04d}")

    @factory.post_generation
    def layout(self, create, extracted, **kwargs):
        if not create:
            return
        rows = kwargs.get("rows", 30)
        letters = kwargs.get("letters", "ABCDEF")
        business_rows = kwargs.get("business_rows", 0)
        sections = []
        if business_rows:
            sections.append(
                CabinSection(
                    airplane=self,
                    cabin=Cabin.BUSINESS,
                    first_row=1,
                    last_row=business_rows,
                    seat_letters=kwargs.get("business_letters", "ACDF"),
                )
            )
        if rows > business_rows:
            sections.append(
                CabinSection(
                    airplane=self,
                    cabin=Cabin.ECONOMY,
                    first_row=business_rows + 1,
                    last_row=rows,
                    seat_letters=letters,
                )
            )
        CabinSection.objects.bulk_create(sections)
        self.capacity = sum(section.seat_count for section in sections)
        self.save(update_fields=["capacity"])


class FlightFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Flight

    flight_number = factory.Sequence(lambda n: f"AI{100 + n % 9000}")
    airplane = factory.SubFactory(AirplaneFactory)
    departure_airport = factory.SubFactory(AirportFactory)
    arrival_airport = factory.SubFactory(AirportFactory)
    departure_time = factory.LazyFunction(lambda: timezone.now().replace(microsecond=0) + timedelta(days=3))
    arrival_time = factory.LazyAttribute(lambda o: o.departure_time + timedelta(hours=2, minutes=10))
    currency = "INR"
    base_fare = Decimal("4500.00")
    business_fare = factory.LazyAttribute(lambda o: Decimal("15000.00"))
    gate = "A12"
    total_seats = factory.LazyAttribute(lambda o: o.airplane.capacity)
    available_seats = factory.LazyAttribute(lambda o: o.total_seats)


def mumbai_airport() -> Airport:
    return AirportFactory(
        iata_code="BOM",
        name="Chhatrapati Shivaji Maharaj International",
        city=CityFactory(name="Mumbai", country="IN", alternative_names="Bombay"),
        time_zone="Asia/Kolkata",
        latitude=19.09,
        longitude=72.87,
    )


def delhi_airport() -> Airport:
    return AirportFactory(
        iata_code="DEL",
        name="Indira Gandhi International",
        city=CityFactory(name="Delhi", country="IN", alternative_names="New Delhi"),
        time_zone="Asia/Kolkata",
        latitude=28.56,
        longitude=77.1,
    )


class FareFamilyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FareFamily
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"FAM_{n}")
    name = factory.LazyAttribute(lambda o: o.code.replace("_", " ").title())
    cabin = Cabin.ECONOMY


def standard_families() -> dict[str, FareFamily]:
    """Economy Saver, Economy Flex and Business Flex, with rules like the demo's."""
    return {
        family.code: family
        for family in (
            FareFamilyFactory(
                code="ECO_SAVER",
                name="Economy Saver",
                cabin=Cabin.ECONOMY,
                display_order=1,
                checked_bags=1,
                checked_bag_kg=15,
                refund_rule=FareFamily.RefundRule.NONE,
                change_allowed=True,
                change_fee=Decimal("3000.00"),
            ),
            FareFamilyFactory(
                code="ECO_FLEX",
                name="Economy Flex",
                cabin=Cabin.ECONOMY,
                display_order=2,
                checked_bags=1,
                checked_bag_kg=25,
                refund_rule=FareFamily.RefundRule.FEE,
                refund_fee=Decimal("1500.00"),
                change_allowed=True,
                change_fee=Decimal("0"),
            ),
            FareFamilyFactory(
                code="BUS_FLEX",
                name="Business Flex",
                cabin=Cabin.BUSINESS,
                display_order=3,
                cabin_bag_kg=10,
                checked_bags=2,
                checked_bag_kg=32,
                refund_rule=FareFamily.RefundRule.FULL,
                change_allowed=True,
            ),
        )
    }


def flight_with_families(flight: Flight, prices: dict[str, str] | None = None) -> Flight:
    """`flight` selling the standard families (at `prices`, else 4500 / 6200 / 15000)."""
    standard_families()
    prices = prices or {"ECO_SAVER": "4500.00", "ECO_FLEX": "6200.00", "BUS_FLEX": "15000.00"}
    return flight_family_fares_set(flight_id=flight.pk, prices=prices)
