"""Token lifetimes and revocation, and no user enumeration through sign-in, sign-up or password rules."""

from datetime import timedelta
from unittest import mock

import pytest
from django.contrib.auth.hashers import MD5PasswordHasher
from django.test import Client
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from apps.accounts.models import User
from apps.accounts.services import auth_session_start
from apps.accounts.tests.factories import TEST_PASSWORD, UserFactory
from apps.accounts.views import SIGNUP_REFUSED
from conftest import authenticated_client

pytestmark = pytest.mark.django_db

TOKEN = "/api/v1/auth/token"
REFRESH = "/api/v1/auth/token/refresh"
LOGOUT = "/api/v1/auth/logout"
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
    refresh = str(auth_session_start(user=user))
    User.objects.filter(pk=user.pk).update(is_active=False)

    response = api_client.post(REFRESH, {"refresh": refresh}, format="json")

    assert response.status_code == 401
    assert "access" not in response.json()


def test_a_deleted_users_refresh_token_is_401_not_a_server_error(api_client):
    user = UserFactory()
    refresh = str(auth_session_start(user=user))
    user.delete()

    response = api_client.post(REFRESH, {"refresh": refresh}, format="json")

    assert response.status_code == 401
    assert response.json()["code"] == "authentication_failed"
    assert "access" not in response.json()


# --- Sessions: a sign-in's tokens stop working at once on logout, password change or deactivation -----


def sign_in(user: User) -> dict[str, str]:
    response = APIClient().post(TOKEN, {"email": user.email, "password": TEST_PASSWORD}, format="json")
    assert response.status_code == 200, response.content
    return response.json()


def bearer(access: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    return client


def refreshed(refresh: str):
    return APIClient().post(REFRESH, {"refresh": refresh}, format="json")


def test_logout_refuses_the_sessions_access_token_at_once():
    # given a signed-in client whose access token works
    user = UserFactory()
    pair = sign_in(user)
    client = bearer(pair["access"])
    assert client.get(ME).status_code == 200

    # when it logs out
    logout = client.post(LOGOUT, {"refresh": pair["refresh"]}, format="json")

    # then the same access token is refused on the next request, long before it expires
    assert logout.status_code == 204
    me = client.get(ME)
    assert me.status_code == 401
    assert me["Content-Type"] == "application/problem+json"
    assert me.json()["code"] == "authentication_failed"
    assert client.get("/api/v1/bookings").status_code == 401
    assert refreshed(pair["refresh"]).status_code == 401


def test_logout_ends_every_token_of_the_session_including_those_minted_by_rotation():
    # given a session whose refresh token was rotated twice (three access tokens)
    user = UserFactory()
    first = sign_in(user)
    second = refreshed(first["refresh"]).json()
    third = refreshed(second["refresh"]).json()

    # when the client logs out with its newest refresh token
    logout = bearer(third["access"]).post(LOGOUT, {"refresh": third["refresh"]}, format="json")

    # then no access token of the session works, and the chain cannot be refreshed
    assert logout.status_code == 204
    assert [bearer(pair["access"]).get(ME).status_code for pair in (first, second, third)] == [401, 401, 401]
    assert refreshed(third["refresh"]).status_code == 401


def test_logout_leaves_the_users_other_sessions_alone():
    # given the same user signed in on two devices
    user = UserFactory()
    phone, laptop = sign_in(user), sign_in(user)

    # when the phone logs out
    logout = bearer(phone["access"]).post(LOGOUT, {"refresh": phone["refresh"]}, format="json")

    # then the laptop's tokens still work
    assert logout.status_code == 204
    assert bearer(phone["access"]).get(ME).status_code == 401
    assert bearer(laptop["access"]).get(ME).status_code == 200
    assert refreshed(laptop["refresh"]).status_code == 200


def test_a_password_change_ends_every_session_of_the_user_at_once():
    # given a user signed in on two devices, and another user signed in
    user, bystander = UserFactory(), UserFactory()
    phone, laptop, theirs = sign_in(user), sign_in(user), sign_in(bystander)

    # when the password is changed (as the admin's and changepassword's forms do)
    user.set_password("A-New-Horse-Battery-7")
    user.save()

    # then neither session's tokens work, and the other user's still do
    assert [bearer(pair["access"]).get(ME).status_code for pair in (phone, laptop)] == [401, 401]
    assert [refreshed(pair["refresh"]).status_code for pair in (phone, laptop)] == [401, 401]
    assert bearer(theirs["access"]).get(ME).status_code == 200


def test_a_deactivated_users_session_cannot_be_refreshed_nor_used():
    user = UserFactory()
    pair = sign_in(user)

    User.objects.filter(pk=user.pk).update(is_active=False)

    assert bearer(pair["access"]).get(ME).status_code == 401
    assert refreshed(pair["refresh"]).status_code == 401


def test_an_access_token_of_no_session_is_refused():
    # given a token signed with our key but minted outside a sign-in (no session claim)
    user = UserFactory()

    response = bearer(str(AccessToken.for_user(user))).get(ME)

    assert response.status_code == 401
    assert response.json()["code"] == "authentication_failed"


def test_a_refresh_token_of_no_session_is_refused(api_client):
    # given a refresh token signed with our key but minted outside a sign-in (simplejwt's own)
    user = UserFactory()

    response = refreshed(str(RefreshToken.for_user(user)))

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'
    assert set(response.json()) & {"access", "refresh"} == set()


def test_me_reads_the_user_and_checks_the_session_in_one_query(django_assert_num_queries):
    user = UserFactory()
    client = bearer(sign_in(user)["access"])

    with django_assert_num_queries(1):
        response = client.get(ME)

    assert response.status_code == 200
    assert response.json()["email"] == user.email


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
    assert strong.context["form"].errors == {"email": [SIGNUP_REFUSED]}
    assert User.objects.filter(email="taken@example.com").count() == 1
