app_name = "flights-api"

urlpatterns: list = []
