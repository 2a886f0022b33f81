import pytest
from django.test import override_settings

pytestmark = pytest.mark.django_db

CLOSED_PORT_REDIS = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": "redis://127.0.0.1:1/0",
        "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.5, "SOCKET_TIMEOUT": 0.5},
    }
}


def test_healthz_is_ok(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_reaches_database_cache_and_broker(client):
    response = client.get("/readyz")

    assert response.status_code == 200
    assert response.json()["checks"] == {"database": "ok", "cache": "ok", "broker": "ok"}


def test_readyz_is_503_naming_redis_when_the_cache_is_unreachable(client):
    with override_settings(CACHES=CLOSED_PORT_REDIS):
        response = client.get("/readyz")

    assert response.status_code == 503
    body = response.json()
    assert body["checks"]["cache"] == "unavailable"
    assert body["checks"]["database"] == "ok"
    assert "cache" in body["detail"]


@override_settings(CELERY_BROKER_URL="amqp://guest:guest@127.0.0.1:1//", CELERY_BROKER_CONNECTION_TIMEOUT=0.5)
def test_readyz_is_503_naming_the_broker_when_it_is_unreachable(client):
    response = client.get("/readyz")

    assert response.status_code == 503
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["checks"]["broker"] == "unavailable"
