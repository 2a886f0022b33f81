"""Token lifetimes and revocation, and no user enumeration through sign-in, sign-up or password rules."""

from datetime import timedelta
from unittest import mock

import pytest
from django.contrib.auth.hashers import MD5PasswordHasher
from django.test import Client
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from apps.accounts.models import User
from apps.accounts.tests.factories import TEST_PASSWORD, UserFactory
from conftest import authenticated_client

pytestmark = pytest.mark.django_db

TOKEN = "/api/v1/auth/token"
REFRESH = "/api/v1/auth/token/refresh"
SIGNUP = "/api/v1/auth/signup"
ME = "/api/v1/auth/me"


def without_request_id(response) -> dict:
    return {key: value for key, value in response.json().items() if key != "request_id"}


# --- Tokens ------------------------------------------------------------------------------------------


def test_access_lasts_15_minutes_and_refresh_7_days(api_client):
    user = UserFactory()

    pair = api_client.post(TOKEN, {"email": user.email, "password": TEST_PASSWORD}, format="json").json()

    access, refresh = AccessToken(pair["access"]), RefreshToken(pair["refresh"])
    assert access["exp"] - access["iat"] == 15 * 60
    assert refresh["exp"] - refresh["iat"] == 7 * 24 * 3600


def test_an_expired_access_token_is_401(api_client):
    user = UserFactory()
    access = AccessToken.for_user(user)
    access.set_exp(lifetime=timedelta(seconds=-1))
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")

    response = api_client.get(ME)

    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"


def test_a_deactivated_users_access_token_stops_working_at_once():
    user = UserFactory()
    client = authenticated_client(user)
    assert client.get(ME).status_code == 200

    User.objects.filter(pk=user.pk).update(is_active=False)
    me = client.get(ME)
    bookings = client.get("/api/v1/bookings")

    assert me.status_code == 401
    assert me.json()["code"] == "authentication_failed"
    assert bookings.status_code == 401


def test_a_deactivated_users_website_session_ends_at_once():
    user = UserFactory()
    client = Client()
    client.force_login(user)
    assert client.get("/bookings/").status_code == 200

    User.objects.filter(pk=user.pk).update(is_active=False)
    response = client.get("/bookings/")

    assert response.status_code == 302
    assert response["Location"].startswith("/signin/")


def test_a_deactivated_user_cannot_refresh(api_client):
    user = UserFactory()
    refresh = str(RefreshToken.for_user(user))
    User.objects.filter(pk=user.pk).update(is_active=False)

    response = api_client.post(REFRESH, {"refresh": refresh}, format="json")

    assert response.status_code == 401
    assert "access" not in response.json()


def test_a_deleted_users_refresh_token_is_401_not_a_server_error(api_client):
    user = UserFactory()
    refresh = str(RefreshToken.for_user(user))
    user.delete()

    response = api_client.post(REFRESH, {"refresh": refresh}, format="json")

    assert response.status_code == 401
    assert response.json()["code"] == "authentication_failed"
    assert "access" not in response.json()


# --- Sign-in: one answer for an unknown email, a wrong password and a deactivated account -------------


def test_api_sign_in_answers_alike_for_unknown_email_wrong_password_and_deactivated_account(api_client):
    UserFactory(email="known@example.com")
    UserFactory(email="gone@example.com", is_active=False)

    unknown = api_client.post(
        TOKEN, {"email": "nobody@example.com", "password": TEST_PASSWORD}, format="json"
    )
    wrong = api_client.post(TOKEN, {"email": "known@example.com", "password": "Wrong-Horse-1"}, format="json")
    inactive = api_client.post(TOKEN, {"email": "gone@example.com", "password": TEST_PASSWORD}, format="json")

    assert unknown.status_code == wrong.status_code == inactive.status_code == 401
    assert without_request_id(unknown) == without_request_id(wrong) == without_request_id(inactive)
    assert unknown.headers.get("WWW-Authenticate") == wrong.headers.get("WWW-Authenticate")


def hasher_calls(sign_in) -> int:
    """How many times the password hasher runs during `sign_in()` (the costly, timed part)."""
    with mock.patch.object(
        MD5PasswordHasher, "encode", autospec=True, side_effect=MD5PasswordHasher.encode
    ) as encode:
        sign_in()
    return encode.call_count


def test_sign_in_for_an_unknown_email_runs_the_hasher_like_a_wrong_password(api_client):
    # Timing is not measured (noisy); what makes it similar is that both paths hash once.
    UserFactory(email="known@example.com")

    def api(email: str) -> None:
        api_client.post(TOKEN, {"email": email, "password": "Wrong-Horse-1"}, format="json")

    def page(email: str) -> None:
        Client().post("/signin/", {"username": email, "password": "Wrong-Horse-1"})

    for sign_in in (api, page):
        unknown = hasher_calls(lambda sign_in=sign_in: sign_in("nobody@example.com"))
        wrong = hasher_calls(lambda sign_in=sign_in: sign_in("known@example.com"))
        assert unknown == wrong == 1


def test_website_sign_in_answers_alike_for_unknown_email_wrong_password_and_deactivated_account():
    UserFactory(email="known@example.com")
    UserFactory(email="gone@example.com", is_active=False)

    def errors(email: str, password: str) -> list[str]:
        response = Client().post("/signin/", {"username": email, "password": password})
        assert response.status_code == 200
        assert "_auth_user_id" not in response.client.session
        return response.context["form"].errors

    unknown = errors("nobody@example.com", TEST_PASSWORD)
    wrong = errors("known@example.com", "Wrong-Horse-1")
    inactive = errors("gone@example.com", TEST_PASSWORD)

    assert unknown == wrong == inactive
    assert "inactive" not in str(inactive).lower()


# --- Sign-up: a registered email is no more visible than the 400 makes it ------------------------------


def test_password_rules_answer_alike_whether_the_email_is_registered_or_not(api_client):
    UserFactory(email="taken@example.com")

    taken = api_client.post(
        SIGNUP, {"email": "taken@example.com", "password": "123", "name": "A"}, format="json"
    )
    free = api_client.post(
        SIGNUP, {"email": "free@example.com", "password": "123", "name": "A"}, format="json"
    )

    assert taken.status_code == free.status_code == 400
    assert without_request_id(taken) == without_request_id(free)
    assert set(taken.json()["errors"]) == {"password"}
    assert not User.objects.filter(email="free@example.com").exists()


def test_website_sign_up_with_a_registered_email_says_no_more_than_the_api(client):
    UserFactory(email="taken@example.com")

    weak = client.post("/signup/", {"name": "A", "email": "taken@example.com", "password": "123"})
    strong = client.post("/signup/", {"name": "A", "email": "taken@example.com", "password": TEST_PASSWORD})

    assert set(weak.context["form"].errors) == {"password"}
    assert strong.context["form"].errors == {"email": ["Could not register this email address."]}
    assert User.objects.filter(email="taken@example.com").count() == 1
