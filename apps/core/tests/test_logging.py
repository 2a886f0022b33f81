import io
import json
import logging

import pytest

from apps.accounts.tests.factories import TEST_PASSWORD, UserFactory
from apps.core.logging import JsonFormatter, RequestIdFilter, scrub
from conftest import access_token_for


@pytest.fixture
def json_log():
    """The production log pipeline (filter + JSON formatter) on the root logger, into a buffer."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    previous_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    yield stream
    root.removeHandler(handler)
    root.setLevel(previous_level)


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ('{"email": "a@b.c", "password": "Hunter-22-secret"}', "Hunter-22-secret"),
        ("password=Hunter-22-secret&email=a", "Hunter-22-secret"),
        ("{'password': 'Hunter-22-secret'}", "Hunter-22-secret"),
        ("Authorization: Bearer abc.def.ghi", "abc.def.ghi"),
        ("card 4242 4242 4242 4242 used", "4242 4242 4242 4242"),
        ("charging tok_visa now", "tok_visa"),
    ],
)
def test_scrub_removes_secrets(text, secret):
    assert secret not in scrub(text)


@pytest.mark.django_db
def test_api_traffic_logs_json_lines_with_request_id_and_user_but_no_secrets(api_client, json_log):
    user = UserFactory()
    access = access_token_for(user)

    api_client.post("/api/v1/auth/token", {"email": user.email, "password": TEST_PASSWORD}, format="json")
    api_client.post(
        "/api/v1/auth/signup",
        {"email": "new@example.com", "password": "Another-Secret-77", "name": "N"},
        format="json",
    )
    me = api_client.get("/api/v1/auth/me", HTTP_AUTHORIZATION=f"Bearer {access}", HTTP_X_REQUEST_ID="req-42")
    logging.getLogger("test").warning("user sent %s", {"password": TEST_PASSWORD, "refresh": access})

    output = json_log.getvalue()
    lines = [json.loads(line) for line in output.splitlines()]
    assert me.status_code == 200
    assert TEST_PASSWORD not in output
    assert "Another-Secret-77" not in output
    assert access not in output
    me_line = next(line for line in lines if line["message"] == "GET /api/v1/auth/me 200")
    assert me_line["request_id"] == "req-42"
    assert me_line["user_id"] == user.pk
