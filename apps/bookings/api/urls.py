from django.urls import path

from apps.bookings.api.views import (
    BookingCancelApi,
    BookingCancellationQuoteApi,
    BookingDetailApi,
    BookingListCreateApi,
)

app_name = "bookings-api"

urlpatterns = [
    path("bookings", BookingListCreateApi.as_view(), name="list-create"),
    path("bookings/<str:reference>", BookingDetailApi.as_view(), name="detail"),
    path("bookings/<str:reference>/cancel", BookingCancelApi.as_view(), name="cancel"),
    path(
        "bookings/<str:reference>/cancellation-quote",
        BookingCancellationQuoteApi.as_view(),
        name="cancellation-quote",
    ),
]
