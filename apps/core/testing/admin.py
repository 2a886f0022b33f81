"""Admin list helpers for tests: the queries one changelist page costs."""

from django.db import connection
from django.test.utils import CaptureQueriesContext


def changelist_queries(client, url: str, params: dict | None = None) -> list[str]:
    """The SQL of one GET of an admin list (which must answer 200)."""
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, params or {})
    assert response.status_code == 200, response.status_code
    return [query["sql"] for query in captured.captured_queries]
