"""Shared fixtures: API clients for each role, and a preflight that names a missing service."""

import pytest
from rest_framework.test import APIClient

from apps.accounts.services import auth_session_start
from apps.accounts.tests.factories import UserFactory


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


def access_token_for(user) -> str:
    """An access token of a new sign-in session of `user` (as POST /api/v1/auth/token gives)."""
    return str(auth_session_start(user=user).access_token)


def authenticated_client(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access_token_for(user)}")
    return client


@pytest.fixture
def customer(db):
    return UserFactory()


@pytest.fixture
def other_customer(db):
    return UserFactory()


@pytest.fixture
def staff_user(db):
    return UserFactory(staff=True)


@pytest.fixture
def bare_staff_user(db):
    """`is_staff` without the "Airline staff" group: no permissions at all."""
    return UserFactory(is_staff=True, staff_group=False)


@pytest.fixture
def admin_user(db):
    return UserFactory(is_staff=True, is_superuser=True)


@pytest.fixture
def customer_client(customer) -> APIClient:
    return authenticated_client(customer)


@pytest.fixture
def other_customer_client(other_customer) -> APIClient:
    return authenticated_client(other_customer)


@pytest.fixture
def staff_client(staff_user) -> APIClient:
    return authenticated_client(staff_user)


@pytest.fixture
def bare_staff_client(bare_staff_user) -> APIClient:
    return authenticated_client(bare_staff_user)


@pytest.fixture
def admin_client_api(admin_user) -> APIClient:
    return authenticated_client(admin_user)


@pytest.fixture(autouse=True)
def _clear_cache():
    """Each test starts with an empty cache (search results, rate-limit counters): this run's keys
    are deleted, and nothing else in Redis."""
    from apps.core.testing.cache import cache_clear_test_keys

    cache_clear_test_keys()


def pytest_sessionstart(session) -> None:
    """Stop at once, naming the service, when MariaDB, Redis or RabbitMQ cannot be reached."""
    from apps.core.preflight import unreachable_services

    problems = unreachable_services()
    if problems:
        pytest.exit(
            "Cannot run the tests: "
            + "; ".join(problems)
            + ". Start them (on a workstation: `docker compose --profile services up -d`).",
            returncode=3,
        )
