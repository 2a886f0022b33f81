"""JSON answers sent as stored bytes, with an ETag that lets clients and proxies revalidate cheaply."""

from django.http import HttpRequest, HttpResponse, HttpResponseNotModified
from django.utils.cache import patch_cache_control
from django.utils.http import quote_etag

JSON = "application/json"


def json_bytes_response(
    request: HttpRequest, body: bytes, *, etag: str, max_age: int, headers: dict[str, str] | None = None
) -> HttpResponse:
    """`body` as a 200, or a bodiless 304 when the request's If-None-Match names its ETag.

    Public and cacheable for `max_age` seconds (what the answer may lag behind anyway), then to be
    revalidated: a 304 costs the server the same lookup, and the client nothing to download.
    """
    quoted = quote_etag(etag)
    if quoted in [tag.strip() for tag in request.headers.get("If-None-Match", "").split(",")]:
        response: HttpResponse = HttpResponseNotModified()
    else:
        response = HttpResponse(body, content_type=JSON)
    response["ETag"] = quoted
    patch_cache_control(response, public=True, max_age=max_age)
    for name, value in (headers or {}).items():
        response[name] = value
    return response
