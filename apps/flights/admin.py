"""Staff manage the catalogue here; flight and layout writes go through the services."""

from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.http import urlencode

from apps.core.admin_display import amount, local_and_utc, local_moment
from apps.core.exceptions import ApplicationError
from apps.flights.admin_filters import (
    DepartureWhenFilter,
    LocalDepartureDateFilter,
    RouteFilter,
    flight_search_filter,
)
from apps.flights.models import (
    CABIN_FARE_FIELDS,
    CANCELLATION_REASON_MAX_LENGTH,
    Airplane,
    Airport,
    CabinSection,
    City,
    FareFamily,
    Flight,
)
from apps.flights.search_cache import catalogue_changed
from apps.flights.services import (
    FLIGHT_CANCEL_PERMISSIONS,
    FLIGHT_WRITABLE_FIELDS_IN_ORDER,
    airplane_capacity_refresh,
    flight_cancel,
    flight_create,
    flight_delete,
    flight_update,
    flight_validate,
    layout_errors,
)
from apps.flights.services.fares import family_fares_errors, flight_family_fares_set


class PlaceAdmin(admin.ModelAdmin):
    """Cities and airports are what search by place matches (apps/flights/places.py): a change bumps
    the catalogue version once it commits, so the next search sees it."""

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        catalogue_changed()

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        super().delete_model(request, obj)
        catalogue_changed()

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet) -> None:
        super().delete_queryset(request, queryset)
        catalogue_changed()


@admin.register(City)
class CityAdmin(PlaceAdmin):
    list_display = ["name", "country", "alternative_names"]
    list_filter = ["country"]
    search_fields = ["name", "country", "alternative_names"]


class AirportAdminForm(forms.ModelForm):
    class Meta:
        model = Airport
        fields = [
            "iata_code",
            "name",
            "city",
            "time_zone",
            "latitude",
            "longitude",
            "departure_charge_name",
            "departure_charge",
            "departure_charge_currency",
        ]

    def clean(self) -> dict[str, Any]:
        cleaned_data = super().clean()
        charge, currency = cleaned_data.get("departure_charge"), cleaned_data.get("departure_charge_currency")
        if charge is not None and not currency:
            self.add_error("departure_charge_currency", "Give the currency the airport charges in.")
        if charge is not None and not cleaned_data.get("departure_charge_name"):
            self.add_error(
                "departure_charge_name", 'Name the charge as travellers read it, e.g. "User development fee".'
            )
        return cleaned_data


@admin.register(Airport)
class AirportAdmin(PlaceAdmin):
    form = AirportAdminForm
    list_display = ["iata_code", "name", "city", "time_zone", "departure_charge"]
    list_select_related = ["city"]
    list_filter = ["city__country", "time_zone"]
    search_fields = ["iata_code", "name", "city__name"]
    autocomplete_fields = ["city"]


class CabinSectionFormSet(forms.BaseInlineFormSet):
    """Checks the whole layout with the same rules as the airplane services."""

    def clean(self) -> None:
        super().clean()
        sections = [
            form.cleaned_data
            for form in self.forms
            if form.cleaned_data and not form.cleaned_data.get("DELETE")
        ]
        errors = layout_errors(sections)
        if errors:
            raise forms.ValidationError(
                [
                    f"{field.replace('cabin_sections.', 'Section ')}: {' '.join(messages)}"
                    for field, messages in errors.items()
                ]
            )


class CabinSectionInline(admin.TabularInline):
    model = CabinSection
    formset = CabinSectionFormSet
    extra = 0
    fields = ["cabin", "first_row", "last_row", "seat_letters"]

    def _layout_frozen(self, obj: Airplane | None) -> bool:
        # The layout of an airplane with flights is what their seats and bookings refer to.
        return obj is not None and obj.flights.exists()

    def has_add_permission(self, request: HttpRequest, obj: Airplane | None = None) -> bool:
        return super().has_add_permission(request, obj) and not self._layout_frozen(obj)

    def has_change_permission(self, request: HttpRequest, obj: Airplane | None = None) -> bool:
        return super().has_change_permission(request, obj) and not self._layout_frozen(obj)

    def has_delete_permission(self, request: HttpRequest, obj: Airplane | None = None) -> bool:
        return super().has_delete_permission(request, obj) and not self._layout_frozen(obj)


@admin.register(Airplane)
class AirplaneAdmin(admin.ModelAdmin):
    list_display = ["registration", "model_name", "capacity"]
    search_fields = ["registration", "model_name"]
    list_filter = ["model_name"]
    readonly_fields = ["capacity"]
    inlines = [CabinSectionInline]

    def save_related(self, request: HttpRequest, form: forms.ModelForm, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        airplane_capacity_refresh(airplane_id=form.instance.pk)
        form.instance.refresh_from_db(fields=["capacity"])


def flight_bookings_url(flight_id: int) -> str:
    """The bookings list filtered to one flight (its filter: apps/bookings/admin.py, FlightFilter)."""
    return f"{reverse('admin:bookings_booking_changelist')}?{urlencode({'flight': flight_id})}"


# The admin form's fields → the services' names for them.
_SERVICE_NAMES = {"airplane": "airplane_id"}


def _service_data(cleaned_data: dict[str, Any], fields: list[str] | set[str]) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for field in fields:
        value = cleaned_data.get(field)
        if field in ("departure_airport", "arrival_airport"):
            value = value.iata_code if value else ""
        elif field == "airplane":
            value = value.pk if value else None
        elif field == "gate":
            value = value or ""
        data[_SERVICE_NAMES.get(field, field)] = value
    return data


# The flight services' writable fields, as the admin form names them (the FK field, not `_id`), in
# the order the form shows them.
FLIGHT_FORM_FIELDS = [
    "airplane" if field == "airplane_id" else field for field in FLIGHT_WRITABLE_FIELDS_IN_ORDER
]


def _family_field(code: str) -> str:
    return f"family_price_{code}"


class FlightAdminForm(forms.ModelForm):
    """The flight's fields, and a price for each fare family (blank: not sold on this flight). A cabin
    sold in families takes its cheapest family's price (apps/flights/services/fares.py), so its fare
    field is read-only here."""

    class Meta:
        model = Flight
        fields = FLIGHT_FORM_FIELDS

    families: list[FareFamily] = []  # the families with a price field (FlightAdmin.get_form)

    @classmethod
    def with_families(cls, families: list[FareFamily]) -> type["FlightAdminForm"]:
        """This form with a price field per family (declared, so the admin lays them out)."""
        fields = {
            _family_field(family.code): forms.DecimalField(
                required=False,
                max_digits=10,
                decimal_places=2,
                label=f"{family.name} ({family.code}) price",
                help_text=f"{family.get_cabin_display()} cabin; blank: not sold on this flight.",
            )
            for family in families
        }
        return type(cls.__name__, (cls,), {**fields, "families": families})

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        sold = self.instance.family_fares or {}
        for family in self.families:
            if family.code in sold:
                self.initial[_family_field(family.code)] = Decimal(sold[family.code]["price"])
        for entry in sold.values():
            field = CABIN_FARE_FIELDS[entry["cabin"]]
            if field in self.fields:
                self.fields[field].disabled = True
                self.fields[field].help_text = "The cheapest fare family's price of this cabin."

    def family_prices(self) -> dict[str, Any]:
        return {
            family.code: self.cleaned_data[_family_field(family.code)]
            for family in self.families
            if self.cleaned_data.get(_family_field(family.code)) is not None
        }

    def family_prices_changed(self) -> bool:
        return any(_family_field(family.code) in self.changed_data for family in self.families)

    def service_data(self) -> dict[str, Any]:
        fields = self.changed_data if self.instance.pk else FLIGHT_FORM_FIELDS
        return _service_data(self.cleaned_data, [f for f in fields if f in FLIGHT_FORM_FIELDS])

    def clean(self) -> dict[str, Any]:
        cleaned_data = super().clean()
        if self.errors:
            return cleaned_data
        try:
            flight_validate(flight_id=self.instance.pk, data=self.service_data())
        except ApplicationError as error:
            for field, messages in (error.errors or {None: [error.detail]}).items():
                form_field = {"airplane_id": "airplane"}.get(field, field)
                self.add_error(form_field if form_field in self.fields else None, messages)
        airplane = self.cleaned_data.get("airplane")
        if self.family_prices_changed() and airplane is not None:
            errors = family_fares_errors(airplane_id=airplane.pk, prices=self.family_prices())
            for code, messages in errors.items():
                self.add_error(_family_field(code), messages)
        return cleaned_data


class FlightActionForm(ActionForm):
    """The changelist's action bar, with the reason the cancel action tells travellers."""

    reason = forms.CharField(
        required=False,
        max_length=CANCELLATION_REASON_MAX_LENGTH,
        label="Reason (told to travellers)",
    )


@admin.register(Flight)
class FlightAdmin(admin.ModelAdmin):
    form = FlightAdminForm
    action_form = FlightActionForm
    # What staff act on, narrow enough for 1366 px beside the filters (test_admin_lists.py).
    list_display = ["flight_number", "route", "departure", "status", "seats", "fare", "operations"]
    # No join in the page's query: joined to the airports, MariaDB starts from that small table and
    # sorts every flight (EXPLAIN: "Using temporary; Using filesort") instead of reading the
    # departure-time index in order. The page's airports and cities come in queries of their own,
    # for that page's rows only (get_queryset).
    list_select_related = ()
    list_filter = [
        DepartureWhenFilter,
        LocalDepartureDateFilter,
        "status",
        RouteFilter,
        ("departure_airport", admin.RelatedOnlyFieldListFilter),
        ("arrival_airport", admin.RelatedOnlyFieldListFilter),
    ]
    ordering = ["departure_time", "id"]
    search_fields = ["flight_number"]  # the search itself: get_search_results
    search_help_text = 'Flight number ("AI101"), route ("MEL-SYD", "Melbourne-Sydney"), airport or city.'
    # Counting every flight for "N total" is a second full count per page; the filtered count is enough.
    show_full_result_count = False
    list_per_page = 50
    autocomplete_fields = ["airplane", "departure_airport", "arrival_airport"]
    readonly_fields = [
        "departure_local",
        "arrival_local",
        "total_seats",
        "available_seats",
        "cancellation_reason",
        "version",
        "created_at",
        "updated_at",
    ]
    actions = ["cancel_flights"]

    @admin.display(description="Operations")
    def operations(self, obj: Flight) -> str:
        # The page is the bookings app's (its load and manifest are bookings' seats): named, not imported.
        return format_html('<a href="{}">Operations</a>', reverse("flight_operations:page", args=[obj.pk]))

    def get_queryset(self, request: HttpRequest) -> QuerySet[Flight]:
        return (
            super().get_queryset(request).prefetch_related("departure_airport__city", "arrival_airport__city")
        )

    def get_form(
        self, request: HttpRequest, obj: Flight | None = None, change: bool = False, **kwargs: Any
    ) -> type[forms.ModelForm]:
        kwargs["form"] = FlightAdminForm.with_families(list(FareFamily.objects.all()))
        return super().get_form(request, obj, change, **kwargs)

    def get_list_display(self, request: HttpRequest) -> list[str]:
        if request.user.has_perm("bookings.view_booking"):
            return [*self.list_display, "bookings"]
        return self.list_display

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Flight], search_term: str
    ) -> tuple[QuerySet[Flight], bool]:
        if not search_term.strip():
            return queryset, False
        return queryset.filter(flight_search_filter(search_term)), False

    @admin.display(description="Route", ordering="departure_airport__iata_code")
    def route(self, flight: Flight) -> str:
        return format_html(
            '<span title="{} → {}">{}&nbsp;→&nbsp;{}</span>',
            flight.departure_airport.city.name,
            flight.arrival_airport.city.name,
            flight.departure_airport.iata_code,
            flight.arrival_airport.iata_code,
        )

    @admin.display(description="Departs (local)", ordering="departure_time")
    def departure(self, flight: Flight) -> str:
        return local_moment(flight.departure_time, flight.departure_airport)

    @admin.display(description="Departs (local time at the airport)")
    def departure_local(self, flight: Flight) -> str:
        if flight.pk is None:
            return "–"
        return local_and_utc(flight.departure_time, flight.departure_airport)

    @admin.display(description="Arrives (local time at the airport)")
    def arrival_local(self, flight: Flight) -> str:
        if flight.pk is None:
            return "–"
        return local_and_utc(flight.arrival_time, flight.arrival_airport)

    @admin.display(description="Seats free", ordering="available_seats")
    def seats(self, flight: Flight) -> str:
        return f"{flight.available_seats} / {flight.total_seats}"

    @admin.display(description="Fare", ordering="base_fare")
    def fare(self, flight: Flight) -> str:
        return amount(flight.base_fare, flight.currency)

    @admin.display(description="Bookings")
    def bookings(self, flight: Flight) -> str:
        return format_html('<a href="{}">Bookings</a>', flight_bookings_url(flight.pk))

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: dict | None = None
    ) -> Any:
        extra_context = dict(extra_context or {})
        if object_id.isascii() and object_id.isdigit() and request.user.has_perm("bookings.view_booking"):
            extra_context["flight_bookings_url"] = flight_bookings_url(int(object_id))
        return super().change_view(request, object_id, form_url, extra_context)

    def save_model(self, request: HttpRequest, obj: Flight, form: FlightAdminForm, change: bool) -> None:
        data = form.service_data()
        if change:
            flight_update(flight_id=obj.pk, data=data)
        else:
            obj.pk = flight_create(**data).pk
        if form.family_prices_changed():
            flight_family_fares_set(flight_id=obj.pk, prices=form.family_prices())
        obj.refresh_from_db()

    def delete_model(self, request: HttpRequest, obj: Flight) -> None:
        flight_delete(flight_id=obj.pk)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Flight]) -> None:
        for flight_id in queryset.values_list("pk", flat=True):
            flight_delete(flight_id=flight_id)

    def has_cancel_flight_permission(self, request: HttpRequest) -> bool:
        # Cancelling a flight cancels its bookings too: both grants are needed.
        return request.user.has_perms(FLIGHT_CANCEL_PERMISSIONS)

    @admin.action(
        description="Cancel selected flights (cancels their bookings, refunds confirmed ones)",
        permissions=["cancel_flight"],
    )
    def cancel_flights(self, request: HttpRequest, queryset: QuerySet[Flight]) -> None:
        # The reason typed in the action bar (FlightActionForm); left empty, travellers are given none.
        reason = request.POST.get("reason", "")
        for flight in queryset.order_by("pk"):
            try:
                flight_cancel(flight_id=flight.pk, actor=request.user, reason=reason)
            except ApplicationError as error:
                self.message_user(request, f"{flight}: {error.detail}", messages.ERROR)
                continue
            self.message_user(
                request,
                f"{flight}: cancelled. Its bookings are cancelled and refunded and their passengers told; "
                "one being paid right now follows when its payment ends.",
                messages.SUCCESS,
            )


@admin.register(FareFamily)
class FareFamilyAdmin(admin.ModelAdmin):
    """A family's rules are the same on every flight; its price is set per flight (the flight's page).
    Its code and cabin are fixed once created (flights store prices under the code, in that cabin);
    a family is never deleted here: it stops being sold where its price is removed."""

    list_display = [
        "code",
        "name",
        "cabin",
        "display_order",
        "checked_bags",
        "checked_bag_kg",
        "refund_rule",
        "change_allowed",
    ]
    list_filter = ["cabin", "refund_rule"]
    ordering = ["display_order", "code"]

    def get_readonly_fields(self, request: HttpRequest, obj: FareFamily | None = None) -> list[str]:
        return ["code", "cabin"] if obj is not None else []

    def has_delete_permission(self, request: HttpRequest, obj: FareFamily | None = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: FareFamily, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        catalogue_changed()  # search answers show the families' rules
