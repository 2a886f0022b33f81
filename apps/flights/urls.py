from django.urls import path

from apps.flights import views

app_name = "flights"

urlpatterns = [
    path("", views.search, name="search"),
    path("flights/", views.results, name="results"),
    path("flights/journey/continue/", views.journey_continue, name="journey_continue"),
    path("flights/journey/seats/", views.journey_seats, name="journey_seats"),
    path("flights/<int:flight_id>/", views.flight_detail, name="detail"),
    path("flights/<int:flight_id>/fares/", views.flight_fares, name="fares"),
]
