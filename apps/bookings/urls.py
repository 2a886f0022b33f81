from django.urls import path

from apps.bookings import change_views, check_in_views, manage_views, views

app_name = "bookings"

urlpatterns = [
    path("bookings/", views.booking_list_page, name="list"),
    path("manage/", manage_views.manage_booking, name="manage"),
    path("manage/open/<str:token>/", manage_views.manage_link, name="manage_link"),
    path("bookings/new/", views.booking_new, name="new"),
    path("bookings/<str:reference>/", views.booking_detail, name="detail"),
    path("bookings/<str:reference>/cancel/", views.booking_cancel_page, name="cancel"),
    path("bookings/<str:reference>/calendar.ics", views.booking_calendar_download, name="calendar"),
    path(
        "bookings/<str:reference>/change/<int:segment>/",
        change_views.booking_change_options_page,
        name="change",
    ),
    path("bookings/<str:reference>/check-in/", check_in_views.check_in_page, name="check_in"),
    path(
        "bookings/<str:reference>/boarding-pass/<int:position>/",
        check_in_views.boarding_pass_page,
        name="boarding_pass",
    ),
    path(
        "bookings/<str:reference>/flights/<int:segment>/boarding-pass/<int:position>/",
        check_in_views.boarding_pass_page,
        name="boarding_pass_on",
    ),
]
