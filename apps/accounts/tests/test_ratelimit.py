import pytest
from django.conf import settings
from django.test import Client, override_settings

from apps.accounts.tests.factories import TEST_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

TOKEN = "/api/v1/auth/token"
SIGNUP = "/api/v1/auth/signup"
ADMIN_LOGIN = f"/{settings.ADMIN_URL}login/"
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


# --- Every way to sign in: the API's token, the website's form, the admin's login ----------------------


def api_sign_in(client: Client, email: str, password: str):
    return client.post(TOKEN, {"email": email, "password": password}, content_type="application/json")


def website_sign_in(client: Client, email: str, password: str):
    return client.post("/signin/", {"username": email, "password": password})


def admin_sign_in(client: Client, email: str, password: str):
    return client.post(f"{ADMIN_LOGIN}?next=/{settings.ADMIN_URL}", {"username": email, "password": password})


def signed_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


@override_settings(RATELIMIT_SIGNIN="2/m")
def test_admin_sign_in_is_limited_per_ip_and_says_so_on_the_login_page():
    # given a staff account and two wrong passwords from one address
    staff = UserFactory(staff=True)
    client = Client()
    wrong = [admin_sign_in(client, staff.email, "wrong-password") for _ in range(2)]

    # when the right password comes third
    refused = admin_sign_in(client, staff.email, TEST_PASSWORD)

    # then the admin's login page says why, with a 429, and nobody is signed in
    assert [response.status_code for response in wrong] == [200, 200]
    assert refused.status_code == 429
    assert "admin/login.html" in [template.name for template in refused.templates]
    assert "Too many requests; retry later. Please wait a minute" in refused.content.decode()
    assert int(refused["Retry-After"]) >= 1
    assert not signed_in(client)
    assert client.get(ADMIN_LOGIN).status_code == 200  # reading the page is not limited
    staff.refresh_from_db()
    assert staff.last_login is None


@pytest.mark.parametrize("sign_in", [api_sign_in, website_sign_in, admin_sign_in])
@override_settings(RATELIMIT_SIGNIN="3/m")
def test_each_way_to_sign_in_is_refused_once_the_others_used_up_the_shared_limit(sign_in):
    # given one attempt through each way from the same address
    staff = UserFactory(staff=True)
    client = Client()
    first_attempts = [
        way(client, staff.email, "wrong-password") for way in (api_sign_in, website_sign_in, admin_sign_in)
    ]

    # when the right password comes through any of them
    refused = sign_in(client, staff.email, TEST_PASSWORD)

    # then it is refused, and nobody is signed in or given a token
    assert [response.status_code for response in first_attempts] == [401, 200, 200]
    assert refused.status_code == {api_sign_in: 429, website_sign_in: 302, admin_sign_in: 429}[sign_in]
    assert not signed_in(client)
    assert b"access" not in refused.content
    staff.refresh_from_db()
    assert staff.last_login is None


@pytest.mark.parametrize("sign_in", [api_sign_in, website_sign_in, admin_sign_in])
def test_each_way_to_sign_in_fails_closed_when_the_rate_limiter_is_down(sign_in):
    staff = UserFactory(staff=True)
    client = Client()

    with override_settings(CACHES=CLOSED_PORT_REDIS):
        response = sign_in(client, staff.email, TEST_PASSWORD)

    assert response.status_code == {api_sign_in: 503, website_sign_in: 302, admin_sign_in: 503}[sign_in]
    assert not signed_in(client)
    assert b"access" not in response.content
    staff.refresh_from_db()
    assert staff.last_login is None
