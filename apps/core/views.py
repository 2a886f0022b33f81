from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from apps.core.middleware import is_api_request
from apps.core.problems import problem_response


def home(request: HttpRequest) -> HttpResponse:
    return render(request, "core/home.html")


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if is_api_request(request):
        return problem_response(
            status=404, code="not_found", title="Not found", detail="No such API resource."
        )
    return render(request, "404.html", status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    if is_api_request(request):
        return problem_response(status=500, code="internal_error", title="Internal server error")
    return render(request, "500.html", status=500)
