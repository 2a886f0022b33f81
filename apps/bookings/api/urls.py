from django.urls import path

from apps.bookings.api.views import BookingCancelApi, BookingDetailApi, BookingListCreateApi

app_name = "bookings-api"

urlpatterns = [
    path("bookings", BookingListCreateApi.as_view(), name="list-create"),
    path("bookings/<str:reference>", BookingDetailApi.as_view(), name="detail"),
    path("bookings/<str:reference>/cancel", BookingCancelApi.as_view(), name="cancel"),
]
