from django.urls import path

from apps.accounts.api.views import (
    UserLogoutApi,
    UserMeApi,
    UserSignupApi,
    UserTokenObtainApi,
    UserTokenRefreshApi,
)

app_name = "accounts-api"

urlpatterns = [
    path("signup", UserSignupApi.as_view(), name="signup"),
    path("token", UserTokenObtainApi.as_view(), name="token"),
    path("token/refresh", UserTokenRefreshApi.as_view(), name="token-refresh"),
    path("logout", UserLogoutApi.as_view(), name="logout"),
    path("me", UserMeApi.as_view(), name="me"),
]
