"""Redeeming one refresh token from many threads at once, against MariaDB: exactly one wins."""

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection
from rest_framework.test import APIClient

from apps.accounts.tests.factories import TEST_PASSWORD, UserFactory

pytestmark = [pytest.mark.concurrency, pytest.mark.django_db(transaction=True)]

TOKEN = "/api/v1/auth/token"
REFRESH = "/api/v1/auth/token/refresh"
ME = "/api/v1/auth/me"
RACERS = 10
TRIALS = 5


def refresh_all_at_once(refresh: str) -> list:
    """POST the same refresh token from RACERS threads released together by a barrier."""
    start = threading.Barrier(RACERS)

    def redeem(_: int):
        try:
            client = APIClient()
            start.wait(timeout=10)
            return client.post(REFRESH, {"refresh": refresh}, format="json")
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=RACERS) as pool:
        return list(pool.map(redeem, range(RACERS)))


@pytest.mark.parametrize("trial", range(TRIALS))
def test_one_refresh_token_redeemed_by_ten_threads_at_once_gives_exactly_one_new_pair(trial):
    # given a signed-in user's refresh token
    user = UserFactory()
    pair = APIClient().post(TOKEN, {"email": user.email, "password": TEST_PASSWORD}, format="json").json()

    # when ten clients redeem it at the same moment
    responses = refresh_all_at_once(pair["refresh"])

    # then exactly one gets a new pair and the nine others a 401 problem with no tokens
    assert Counter(response.status_code for response in responses) == {200: 1, 401: RACERS - 1}
    (winner,) = [response.json() for response in responses if response.status_code == 200]
    for loser in (response for response in responses if response.status_code == 401):
        assert loser["Content-Type"] == "application/problem+json"
        assert set(loser.json()) & {"access", "refresh"} == set()
    # and the winner's chain goes on while the redeemed token stays spent
    assert APIClient().post(REFRESH, {"refresh": pair["refresh"]}, format="json").status_code == 401
    assert APIClient().post(REFRESH, {"refresh": winner["refresh"]}, format="json").status_code == 200
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {winner['access']}")
    assert client.get(ME).status_code == 200
