app_name = "bookings-api"

urlpatterns: list = []
