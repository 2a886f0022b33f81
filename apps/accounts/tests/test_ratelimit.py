import pytest
from django.test import override_settings

from apps.accounts.tests.factories import TEST_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

TOKEN = "/api/v1/auth/token"
SIGNUP = "/api/v1/auth/signup"
CLOSED_PORT_REDIS = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": "redis://127.0.0.1:1/0",
        "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.5, "SOCKET_TIMEOUT": 0.5},
    }
}


def sign_in(client, email, password="wrong-password", **headers):
    return client.post(TOKEN, {"email": email, "password": password}, format="json", **headers)


@override_settings(RATELIMIT_SIGNIN="3/m")
def test_sign_in_is_limited_per_ip_with_a_429_problem(api_client):
    user = UserFactory()

    statuses = [sign_in(api_client, user.email).status_code for _ in range(3)]
    limited = sign_in(api_client, user.email, TEST_PASSWORD)

    assert statuses == [401, 401, 401]
    assert limited.status_code == 429
    assert limited["Content-Type"] == "application/problem+json"
    assert limited.json()["code"] == "rate_limited"
    assert int(limited["Retry-After"]) >= 1


@override_settings(RATELIMIT_SIGNIN="2/m")
def test_a_spoofed_forwarded_for_from_a_direct_client_does_not_dodge_the_limit(api_client):
    user = UserFactory()

    responses = [sign_in(api_client, user.email, HTTP_X_FORWARDED_FOR=f"10.0.0.{i}") for i in range(3)]

    assert [r.status_code for r in responses] == [401, 401, 429]


@override_settings(RATELIMIT_SIGNIN="2/m", TRUSTED_PROXY_COUNT=1)
def test_behind_one_trusted_proxy_the_forwarded_client_address_is_the_key(api_client):
    user = UserFactory()

    first_client = [sign_in(api_client, user.email, HTTP_X_FORWARDED_FOR="203.0.113.7") for _ in range(3)]
    other_client = sign_in(api_client, user.email, HTTP_X_FORWARDED_FOR="203.0.113.8")
    spoofed = sign_in(api_client, user.email, HTTP_X_FORWARDED_FOR="198.51.100.1, 203.0.113.7")

    assert [r.status_code for r in first_client] == [401, 401, 429]
    assert other_client.status_code == 401
    assert spoofed.status_code == 429  # the client-written part left of the proxy's entry is ignored


@override_settings(RATELIMIT_SIGNUP="1/m")
def test_sign_up_is_limited_per_ip(api_client):
    first = api_client.post(
        SIGNUP, {"email": "a@example.com", "password": TEST_PASSWORD, "name": "A"}, format="json"
    )
    second = api_client.post(
        SIGNUP, {"email": "b@example.com", "password": TEST_PASSWORD, "name": "B"}, format="json"
    )

    assert first.status_code == 201
    assert second.status_code == 429


def test_sign_in_fails_closed_when_the_rate_limiter_is_down(api_client):
    user = UserFactory()

    with override_settings(CACHES=CLOSED_PORT_REDIS):
        response = sign_in(api_client, user.email, TEST_PASSWORD)

    assert response.status_code == 503
    assert response.json()["code"] == "rate_limiter_unavailable"
    assert "access" not in response.json()


@override_settings(RATELIMIT_SEARCH="2/m")
def test_search_is_limited_per_ip(api_client):
    responses = [api_client.get("/api/v1/flights") for _ in range(3)]

    assert [r.status_code for r in responses] == [200, 200, 429]
    assert responses[2].json()["code"] == "rate_limited"


@override_settings(RATELIMIT_SEARCH="2/m")
def test_search_fails_open_when_the_rate_limiter_is_down(api_client):
    with override_settings(CACHES=CLOSED_PORT_REDIS):
        responses = [api_client.get("/api/v1/flights") for _ in range(3)]

    assert [r.status_code for r in responses] == [200, 200, 200]
