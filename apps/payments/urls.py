from django.urls import path

from apps.payments import views

app_name = "payments"

urlpatterns = [
    path("bookings/<str:reference>/pay/", views.booking_pay, name="pay"),
    path(
        "bookings/<str:reference>/change/<int:segment>/<int:flight_id>/",
        views.booking_change_confirm,
        name="change_confirm",
    ),
]
