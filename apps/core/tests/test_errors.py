import json

import pytest
from django.urls import path
from rest_framework.views import APIView

from airline.urls import urlpatterns as project_urls

pytestmark = pytest.mark.django_db


class ExplodingApi(APIView):
    authentication_classes: list = []
    permission_classes: list = []

    def get(self, request):
        raise RuntimeError("secret internals: SELECT password FROM users")


def exploding_plain_view(request):
    raise RuntimeError("secret internals in a plain view")


urlpatterns = [
    path("api/v1/test-explode", ExplodingApi.as_view()),
    path("api/v1/test-explode-plain", exploding_plain_view),
    *project_urls,
]


def test_malformed_json_is_a_400_problem(api_client):
    # given a body that is not JSON / when it is posted / then a problem names the malformation
    response = api_client.post("/api/v1/auth/signup", data="{not json", content_type="application/json")

    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["code"] == "malformed_request"
    assert body["status"] == 400
    assert body["request_id"] == response["X-Request-ID"]


@pytest.mark.parametrize("debug", [False, True], ids=["production", "under DEBUG (make run)"])
def test_unknown_api_route_is_a_404_problem(api_client, settings, debug):
    settings.DEBUG = debug

    response = api_client.get("/api/v1/no-such-thing")

    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "not_found"
    assert response.json()["request_id"] == response["X-Request-ID"]


def test_an_unknown_page_under_debug_keeps_the_debug_page(client, settings):
    settings.DEBUG = True

    response = client.get("/no-such-page/")

    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


@pytest.mark.urls("apps.core.tests.test_errors")
def test_unexpected_exception_is_a_500_problem_without_internals(api_client, caplog):
    response = api_client.get("/api/v1/test-explode")

    assert response.status_code == 500
    body = response.json()
    assert body["code"] == "internal_error"
    assert body["request_id"] == response["X-Request-ID"]
    assert "secret" not in json.dumps(body)
    assert "Traceback" not in response.content.decode()
    assert "secret internals" in caplog.text  # logged for us, not shown to the client


@pytest.mark.urls("apps.core.tests.test_errors")
def test_unexpected_exception_in_a_plain_api_view_is_a_500_problem(client):
    client.raise_request_exception = False

    response = client.get("/api/v1/test-explode-plain")

    assert response.status_code == 500
    assert response["Content-Type"] == "application/problem+json"
    assert "secret" not in response.content.decode()


def test_request_id_is_echoed_when_safe_and_replaced_when_not(api_client):
    kept = api_client.get("/healthz", HTTP_X_REQUEST_ID="abc-123")
    replaced = api_client.get("/healthz", HTTP_X_REQUEST_ID="bad id\nwith newline")

    assert kept["X-Request-ID"] == "abc-123"
    assert replaced["X-Request-ID"] != "bad id\nwith newline"
    assert len(replaced["X-Request-ID"]) == 32


def test_website_404_is_html(client):
    response = client.get("/no-such-page")

    assert response.status_code == 404
    assert "text/html" in response["Content-Type"]
