from django.urls import path

from apps.flights.api.catalogue import AirplaneDetailApi, AirplaneListCreateApi, AirportListApi, CityListApi
from apps.flights.api.flights import (
    FlightDetailApi,
    FlightFaresByDayApi,
    FlightListCreateApi,
    FlightSeatMapApi,
)
from apps.flights.api.journeys import JourneySearchApi

app_name = "flights-api"

urlpatterns = [
    path("cities", CityListApi.as_view(), name="cities"),
    path("airports", AirportListApi.as_view(), name="airports"),
    path("airplanes", AirplaneListCreateApi.as_view(), name="airplanes"),
    path("airplanes/<int:airplane_id>", AirplaneDetailApi.as_view(), name="airplane"),
    path("flights", FlightListCreateApi.as_view(), name="flights"),
    path("flights/fares-by-day", FlightFaresByDayApi.as_view(), name="flight-fares-by-day"),
    path("flights/<int:flight_id>", FlightDetailApi.as_view(), name="flight"),
    path("flights/<int:flight_id>/seats", FlightSeatMapApi.as_view(), name="flight-seats"),
    path("journeys", JourneySearchApi.as_view(), name="journeys"),
]
