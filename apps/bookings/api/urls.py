from django.urls import path

from apps.bookings.api.views import (
    BookingCancelApi,
    BookingCancellationQuoteApi,
    BookingChangeOptionsApi,
    BookingChangeQuoteApi,
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
    path("bookings/<str:reference>/change-options", BookingChangeOptionsApi.as_view(), name="change-options"),
    path("bookings/<str:reference>/change-quote", BookingChangeQuoteApi.as_view(), name="change-quote"),
]
