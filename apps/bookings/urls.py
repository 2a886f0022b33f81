from django.urls import path

from apps.bookings import views

app_name = "bookings"

urlpatterns = [
    path("bookings/", views.booking_list_page, name="list"),
    path("bookings/new/", views.booking_new, name="new"),
    path("bookings/<str:reference>/", views.booking_detail, name="detail"),
    path("bookings/<str:reference>/cancel/", views.booking_cancel_page, name="cancel"),
    path("bookings/<str:reference>/calendar.ics", views.booking_calendar_download, name="calendar"),
]
