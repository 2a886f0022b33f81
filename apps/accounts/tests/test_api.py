import pytest
from django.contrib.auth.models import Group

from apps.accounts.models import STAFF_GROUP_NAME, User
from apps.accounts.services import auth_session_start
from apps.accounts.tests.factories import TEST_PASSWORD, UserFactory
from conftest import authenticated_client

pytestmark = pytest.mark.django_db

SIGNUP = "/api/v1/auth/signup"
TOKEN = "/api/v1/auth/token"
REFRESH = "/api/v1/auth/token/refresh"
LOGOUT = "/api/v1/auth/logout"
ME = "/api/v1/auth/me"


def obtain_pair(api_client, email: str, password: str = TEST_PASSWORD) -> dict:
    response = api_client.post(TOKEN, {"email": email, "password": password}, format="json")
    assert response.status_code == 200, response.content
    return response.json()


def test_signup_creates_a_customer_and_never_returns_the_hash(api_client):
    response = api_client.post(
        SIGNUP, {"email": "Asha@Example.com", "password": TEST_PASSWORD, "name": "Asha Rao"}, format="json"
    )

    assert response.status_code == 201
    body = response.json()
    assert body["email"] == "asha@example.com"
    assert body["role"] == "customer"
    assert "password" not in body
    assert User.objects.get(email="asha@example.com").check_password(TEST_PASSWORD)
    assert User.objects.get(email="asha@example.com").password not in response.content.decode()


def test_signup_with_a_registered_email_is_a_generic_400(api_client):
    UserFactory(email="taken@example.com", name="Original")

    response = api_client.post(
        SIGNUP, {"email": "TAKEN@example.com", "password": TEST_PASSWORD, "name": "X"}, format="json"
    )

    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["detail"] == "Could not register this email address."
    assert response.json()["errors"] == {"email": ["Could not register this email address."]}
    assert User.objects.filter(email="taken@example.com").count() == 1
    assert User.objects.get(email="taken@example.com").name == "Original"


@pytest.mark.parametrize("password", ["short", "password123", "12345678901", "asha@example.com"])
def test_signup_with_a_weak_password_is_400_and_creates_nobody(api_client, password):
    response = api_client.post(
        SIGNUP, {"email": "asha@example.com", "password": password, "name": "Asha"}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"
    assert "password" in response.json()["errors"]
    assert not User.objects.filter(email="asha@example.com").exists()


def test_signup_with_missing_fields_names_them(api_client):
    response = api_client.post(SIGNUP, {}, format="json")

    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"email", "password", "name"}


def test_signup_takes_text_as_strings_only_as_its_schema_says(api_client):
    response = api_client.post(
        SIGNUP, {"email": "asha@example.com", "password": 40817.5193, "name": 7}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["errors"] == {"password": ["Not a valid string."], "name": ["Not a valid string."]}
    assert not User.objects.filter(email="asha@example.com").exists()


def test_token_pair_then_me_shows_the_user_and_role(api_client):
    user = UserFactory(staff=True)
    pair = obtain_pair(api_client, user.email)

    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {pair['access']}")
    response = api_client.get(ME)

    assert response.status_code == 200
    assert response.json()["email"] == user.email
    assert response.json()["role"] == "staff"


def test_wrong_password_is_401_problem(api_client):
    user = UserFactory()

    response = api_client.post(TOKEN, {"email": user.email, "password": "wrong-password"}, format="json")

    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"


def test_me_requires_a_token(api_client):
    response = api_client.get(ME)

    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "not_authenticated"


def test_me_with_a_garbage_token_is_401(api_client):
    api_client.credentials(HTTP_AUTHORIZATION="Bearer not-a-jwt")

    response = api_client.get(ME)

    assert response.status_code == 401
    assert "not-a-jwt" not in response.content.decode()


def test_refresh_rotates_and_the_old_refresh_token_is_spent(api_client):
    user = UserFactory()
    pair = obtain_pair(api_client, user.email)

    rotated = api_client.post(REFRESH, {"refresh": pair["refresh"]}, format="json")
    reused = api_client.post(REFRESH, {"refresh": pair["refresh"]}, format="json")

    assert rotated.status_code == 200
    assert rotated.json()["refresh"] != pair["refresh"]
    assert rotated.json()["access"]
    assert reused.status_code == 401


def test_logout_ends_the_refresh_tokens_session(api_client):
    user = UserFactory()
    pair = obtain_pair(api_client, user.email)
    client = authenticated_client(user)

    logout = client.post(LOGOUT, {"refresh": pair["refresh"]}, format="json")
    refresh_after = api_client.post(REFRESH, {"refresh": pair["refresh"]}, format="json")

    assert logout.status_code == 204
    assert refresh_after.status_code == 401


def test_logout_cannot_end_another_users_session(api_client):
    victim = UserFactory()
    attacker = UserFactory()
    victim_refresh = str(auth_session_start(user=victim))

    response = authenticated_client(attacker).post(LOGOUT, {"refresh": victim_refresh}, format="json")

    assert response.status_code == 400
    assert api_client.post(REFRESH, {"refresh": victim_refresh}, format="json").status_code == 200


def test_the_staff_group_exists_after_migrate():
    assert Group.objects.filter(name=STAFF_GROUP_NAME).exists()
