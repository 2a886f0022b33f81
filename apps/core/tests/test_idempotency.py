import threading
from concurrent.futures import ThreadPoolExecutor, as_completed
from datetime import timedelta

import pytest
from django.db import connection
from django.urls import path
from django.utils import timezone
from rest_framework import status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from airline.urls import urlpatterns as project_urls
from apps.accounts.tests.factories import UserFactory
from apps.core.exceptions import ServiceUnavailable, UnprocessableEntity
from apps.core.idempotency import idempotent, request_fingerprint
from apps.core.models import IdempotencyKey
from apps.core.tasks import purge_idempotency_keys_task
from conftest import authenticated_client

ROUTE = "/api/v1/test-idempotent"


class Calls:
    """What the test views did, shared with the test threads."""

    lock = threading.Lock()
    count = 0
    fail_first = False
    release = threading.Event()
    block = False

    @classmethod
    def reset(cls) -> None:
        cls.count = 0
        cls.fail_first = False
        cls.block = False
        cls.release = threading.Event()

    @classmethod
    def record(cls) -> int:
        with cls.lock:
            cls.count += 1
            return cls.count


class CreateThingApi(APIView):
    permission_classes = [IsAuthenticated]

    @idempotent
    def post(self, request):
        call = Calls.record()
        if Calls.block:
            Calls.release.wait(timeout=10)
        if Calls.fail_first and call == 1:
            raise ServiceUnavailable("The thing store is down.")
        if request.data.get("reject"):
            raise UnprocessableEntity("Things like this are refused.")
        return Response(
            {"call": call, "user": request.user.pk, "echo": request.data},
            status=status.HTTP_201_CREATED,
            headers={"Location": f"/things/{call}"},
        )


urlpatterns = [path(ROUTE.removeprefix("/"), CreateThingApi.as_view()), *project_urls]

pytestmark = pytest.mark.urls("apps.core.tests.test_idempotency")


@pytest.fixture(autouse=True)
def _calls():
    Calls.reset()
    yield
    Calls.release.set()


def post(client, body, key: str | None = "key-1"):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key is not None else {}
    return client.post(ROUTE, body, format="json", **headers)


@pytest.mark.django_db
def test_first_request_runs_and_stores_its_response(customer, customer_client):
    response = post(customer_client, {"name": "a"})

    assert response.status_code == 201
    assert response.json()["call"] == 1
    assert "Idempotent-Replayed" not in response
    row = IdempotencyKey.objects.get(owner=customer, key="key-1")
    assert row.state == IdempotencyKey.State.COMPLETED
    assert row.response_status == 201
    assert row.response_body == response.json()
    assert row.request_fingerprint == request_fingerprint(method="POST", route=ROUTE, body={"name": "a"})


@pytest.mark.django_db
def test_same_key_and_body_replays_status_headers_and_body_without_running_again(customer_client):
    first = post(customer_client, {"name": "a", "n": [1, 2]})

    replay = post(customer_client, {"n": [1, 2], "name": "a"})  # same JSON, other key order

    assert Calls.count == 1
    assert replay.status_code == 201
    assert replay.content == first.content
    assert replay["Location"] == first["Location"] == "/things/1"
    assert replay["Idempotent-Replayed"] == "true"


@pytest.mark.django_db
def test_same_key_with_a_different_body_is_a_422_and_does_not_run(customer_client):
    post(customer_client, {"name": "a"})

    response = post(customer_client, {"name": "b"})

    assert response.status_code == 422
    assert response.json()["code"] == "idempotency_key_reused"
    assert Calls.count == 1


@pytest.mark.django_db
def test_missing_key_is_a_400_and_nothing_runs(customer_client):
    response = post(customer_client, {"name": "a"}, key=None)

    assert response.status_code == 400
    assert response.json()["code"] == "idempotency_key_missing"
    assert Calls.count == 0
    assert not IdempotencyKey.objects.exists()


@pytest.mark.django_db
def test_key_longer_than_255_characters_is_a_400_and_nothing_runs(customer_client):
    accepted = post(customer_client, {"name": "a"}, key="k" * 255)
    refused = post(customer_client, {"name": "a"}, key="k" * 256)

    assert accepted.status_code == 201
    assert refused.status_code == 400
    assert refused.json()["code"] == "idempotency_key_invalid"
    assert Calls.count == 1
    assert IdempotencyKey.objects.count() == 1


@pytest.mark.django_db
def test_keys_differing_only_in_case_or_trailing_space_are_different_keys(customer_client):
    first = post(customer_client, {"name": "a"}, key="Order-7")
    upper = post(customer_client, {"name": "a"}, key="ORDER-7")
    spaced = post(customer_client, {"name": "a"}, key="Order-7 ")

    assert [r.status_code for r in (first, upper, spaced)] == [201, 201, 201]
    assert [r.json()["call"] for r in (first, upper, spaced)] == [1, 2, 3]
    assert IdempotencyKey.objects.count() == 3


@pytest.mark.django_db
def test_keys_are_scoped_to_the_caller(customer, customer_client, other_customer, other_customer_client):
    first = post(customer_client, {"name": "a"})

    second = post(other_customer_client, {"name": "a"})

    assert Calls.count == 2
    assert second.status_code == 201
    assert "Idempotent-Replayed" not in second
    assert second.json()["user"] == other_customer.pk != first.json()["user"]
    assert IdempotencyKey.objects.filter(key="key-1").count() == 2


@pytest.mark.django_db
def test_unauthenticated_request_is_a_401_and_claims_nothing(api_client):
    response = post(api_client, {"name": "a"})

    assert response.status_code == 401
    assert not IdempotencyKey.objects.exists()


@pytest.mark.django_db
def test_business_4xx_is_stored_and_replayed(customer_client):
    first = post(customer_client, {"reject": True})

    replay = post(customer_client, {"reject": True})

    assert first.status_code == replay.status_code == 422
    assert replay["Content-Type"] == "application/problem+json"
    assert replay.content == first.content
    assert replay["Idempotent-Replayed"] == "true"
    assert Calls.count == 1


@pytest.mark.django_db
def test_5xx_releases_the_key_so_the_retry_runs_again(customer, customer_client):
    Calls.fail_first = True

    failed = post(customer_client, {"name": "a"})
    assert failed.status_code == 503
    assert not IdempotencyKey.objects.filter(owner=customer, key="key-1").exists()

    retried = post(customer_client, {"name": "a"})

    assert retried.status_code == 201
    assert "Idempotent-Replayed" not in retried
    assert Calls.count == 2


def _claim_row(owner, *, lease_expires_at, body):
    return IdempotencyKey.objects.create(
        owner=owner,
        key="key-1",
        method="POST",
        route=ROUTE,
        request_fingerprint=request_fingerprint(method="POST", route=ROUTE, body=body),
        lease_expires_at=lease_expires_at,
    )


@pytest.mark.django_db
def test_in_progress_key_with_a_live_lease_is_a_409_with_retry_after(customer, customer_client):
    _claim_row(customer, lease_expires_at=timezone.now() + timedelta(seconds=30), body={"name": "a"})

    response = post(customer_client, {"name": "a"})

    assert response.status_code == 409
    assert response.json()["code"] == "idempotency_key_in_use"
    assert 29 <= int(response["Retry-After"]) <= 30
    assert Calls.count == 0


@pytest.mark.django_db
def test_crashed_request_with_an_expired_lease_is_taken_over_by_the_retry(customer, customer_client):
    # given a claim whose worker died (its lease ran out)
    _claim_row(customer, lease_expires_at=timezone.now() - timedelta(seconds=1), body={"name": "a"})

    # when the client retries with the same key
    response = post(customer_client, {"name": "a"})

    # then the request runs and its response is stored
    assert response.status_code == 201
    assert Calls.count == 1
    row = IdempotencyKey.objects.get(owner=customer, key="key-1")
    assert row.state == IdempotencyKey.State.COMPLETED
    assert row.response_status == 201


@pytest.mark.django_db
def test_purge_task_deletes_keys_older_than_the_retention(customer, settings):
    settings.IDEMPOTENCY_RETENTION_HOURS = 24
    old = _claim_row(customer, lease_expires_at=timezone.now(), body={})
    IdempotencyKey.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(hours=25))
    recent = IdempotencyKey.objects.create(
        owner=customer,
        key="key-2",
        method="POST",
        route=ROUTE,
        request_fingerprint="x",
        lease_expires_at=timezone.now(),
    )

    deleted = purge_idempotency_keys_task()

    assert deleted == 1
    assert list(IdempotencyKey.objects.values_list("pk", flat=True)) == [recent.pk]


def _in_thread(func):
    def run(*args):
        try:
            return func(*args)
        finally:
            connection.close()

    return run


def _race_one_key(user, racers: int = 20):
    """`racers` threads post one key at once; the request that runs blocks until the rest answered."""
    Calls.block = True
    barrier = threading.Barrier(racers)

    @_in_thread
    def race(_):
        client = authenticated_client(user)
        barrier.wait(timeout=10)
        return post(client, {"name": "a"})

    with ThreadPoolExecutor(max_workers=racers) as pool:
        futures = [pool.submit(race, i) for i in range(racers)]
        for answered, _ in enumerate(as_completed(futures, timeout=30), start=1):
            if answered == racers - 1:
                Calls.release.set()
        return [future.result() for future in futures]


def _assert_one_ran_and_the_rest_were_refused(responses):
    assert sorted(r.status_code for r in responses) == [201] + [409] * (len(responses) - 1)
    refusals = [r for r in responses if r.status_code == 409]
    assert {r.json()["code"] for r in refusals} == {"idempotency_key_in_use"}
    assert all(int(r["Retry-After"]) >= 1 for r in refusals)
    assert Calls.count == 1


@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
def test_20_concurrent_requests_with_one_key_run_once():
    # given one user / when 20 requests with one key race
    user = UserFactory()

    responses = _race_one_key(user)

    # then one ran, the others were told it is in progress, and a later retry is the replay
    _assert_one_ran_and_the_rest_were_refused(responses)
    replay = post(authenticated_client(user), {"name": "a"})
    assert replay["Idempotent-Replayed"] == "true"
    assert replay.content == next(r for r in responses if r.status_code == 201).content
    assert Calls.count == 1


@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
def test_20_concurrent_retries_of_a_crashed_request_take_it_over_once():
    # given a claim whose worker crashed
    user = UserFactory()
    _claim_row(user, lease_expires_at=timezone.now() - timedelta(seconds=5), body={"name": "a"})

    # when 20 retries race for it
    responses = _race_one_key(user)

    # then exactly one took it over and ran
    _assert_one_ran_and_the_rest_were_refused(responses)
    assert IdempotencyKey.objects.get(owner=user, key="key-1").state == IdempotencyKey.State.COMPLETED
