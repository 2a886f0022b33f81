import json

import pytest
from django.urls import path
from rest_framework.views import APIView

from airline.urls import urlpatterns as project_urls
from apps.accounts.models import User
from apps.core.api.parsers import MAX_JSON_DEPTH

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


# --- Bodies the JSON parser refuses: nothing reaches the view ------------------------------------------

SIGNUP = "/api/v1/auth/signup"
LONE_SURROGATE = "\ud800"  # half of a UTF-16 pair: valid in a JSON escape, not encodable as UTF-8


def signup_body(**fields: str) -> dict[str, str]:
    return {"email": "asha@example.com", "password": "Correct-Horse-Battery-9", "name": "Asha", **fields}


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


@pytest.mark.parametrize("field", ["name", "email", "password"])
def test_a_lone_surrogate_in_a_json_string_is_a_400_problem_and_nothing_is_stored(api_client, field):
    # given a body whose JSON escapes spell half a surrogate pair (json.dumps writes "\ud800")
    body = json.dumps(signup_body(**{field: f"Asha{LONE_SURROGATE}"}))
    assert "\\ud800" in body

    # when it is posted
    response = api_client.post(SIGNUP, data=body, content_type="application/json")

    # then the parser refuses it and no account exists
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "malformed_request"
    assert not User.objects.exists()


def test_a_lone_surrogate_in_a_json_key_is_a_400_problem(api_client):
    body = json.dumps({**signup_body(), LONE_SURROGATE: "x"})

    response = api_client.post(SIGNUP, data=body, content_type="application/json")

    assert response.status_code == 400
    assert response.json()["code"] == "malformed_request"
    assert not User.objects.exists()


def test_a_surrogate_pair_is_one_character_and_accepted(api_client):
    # given an emoji written as its JSON surrogate-pair escape
    body = json.dumps(signup_body(name="Asha \U0001f6eb"))
    assert "\\ud83d\\udeeb" in body

    response = api_client.post(SIGNUP, data=body, content_type="application/json")

    assert response.status_code == 201
    assert User.objects.get().name == "Asha \U0001f6eb"


@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH + 1, 1_000, 100_000])
def test_json_nested_deeper_than_the_limit_is_a_400_problem(api_client, depth):
    response = api_client.post(
        "/api/v1/auth/token/refresh", data=nested(depth), content_type="application/json"
    )

    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "malformed_request"


def test_json_nested_exactly_to_the_limit_is_parsed_and_judged_by_the_view(api_client):
    response = api_client.post(SIGNUP, data=nested(MAX_JSON_DEPTH), content_type="application/json")

    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"  # a list is not a sign-up, but it was parsed


def test_a_body_over_the_upload_limit_is_a_413_problem_and_one_at_the_limit_is_not(api_client, settings):
    # given bodies of exactly the limit and one byte more
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1_000
    padding = settings.DATA_UPLOAD_MAX_MEMORY_SIZE - len(json.dumps(signup_body(name="")))
    at_limit = json.dumps(signup_body(name="A" * padding))
    assert len(at_limit) == settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    over_limit = json.dumps(signup_body(name="A" * (padding + 1)))

    # when each is posted
    accepted = api_client.post(SIGNUP, data=at_limit, content_type="application/json")
    refused = api_client.post(SIGNUP, data=over_limit, content_type="application/json")

    # then the first reaches the view (a 150-character name is too long), the second is a 413
    assert accepted.status_code == 400
    assert accepted.json()["errors"] == {"name": ["Ensure this field has no more than 150 characters."]}
    assert refused.status_code == 413
    assert refused["Content-Type"] == "application/problem+json"
    assert refused.json()["code"] == "request_too_large"
    assert not User.objects.exists()
