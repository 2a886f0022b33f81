"""Page-number pagination of every API list: the paginator, its OpenAPI shape, and one response helper."""

from collections.abc import Callable
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiParameter, inline_serializer
from rest_framework import exceptions as drf_exceptions
from rest_framework import pagination, serializers
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.exceptions import NotFound

MAX_PAGE_SIZE = 100

PAGE_PARAMETERS = [
    OpenApiParameter("page", {"type": "integer", "minimum": 1}, description="1-based page number."),
    OpenApiParameter(
        "page_size",
        {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE},
        description=f"Results per page, 1 to {MAX_PAGE_SIZE} (default 20).",
    ),
]


class PageNumberPagination(pagination.PageNumberPagination):
    """`page` and `page_size` (≤ 100); a malformed or out-of-range value is a 400 naming it, a page
    past the last a 404 naming it."""

    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE

    def get_page_size(self, request) -> int:
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= self.max_page_size:
            raise ValidationError({"page_size": [f"Must be a whole number from 1 to {self.max_page_size}."]})
        return int(raw)

    def get_page_number(self, request, paginator=None) -> int:
        raw = request.query_params.get(self.page_query_param, "1")
        if not (raw.isascii() and raw.isdigit()) or int(raw) < 1:
            raise ValidationError({"page": ["Must be a whole number from 1."]})
        return int(raw)

    def paginate_queryset(self, queryset, request, view=None):
        try:
            return super().paginate_queryset(queryset, request, view)
        except drf_exceptions.NotFound:
            raise _past_the_last_page() from None

    def counted_page_response(self, request, items: list[Any], *, number: int, count: int) -> Response:
        """The response for page `number` of a list fetched a page at a time (`items`, of `count` in
        all), with the same links and errors as a paginated queryset's."""
        if number > 1 and not items:
            raise _past_the_last_page()
        self.request = request
        self.page = Page(items, number, Paginator(range(count), self.get_page_size(request)))
        return self.get_paginated_response(items)


def _past_the_last_page() -> NotFound:
    # A well-formed page number that names no page: nothing there (as for an unknown id).
    return NotFound("Past the last page.", errors={"page": ["Past the last page."]})


def paginated(output: type[serializers.Serializer]) -> serializers.Serializer:
    """The OpenAPI shape of a page of `output` items (count, next, previous, results)."""
    return inline_serializer(
        name=f"Paginated{output.__name__.removesuffix('Output')}List",
        fields={
            "count": serializers.IntegerField(),
            "next": serializers.URLField(allow_null=True),
            "previous": serializers.URLField(allow_null=True),
            "results": output(many=True),
        },
    )


def paginated_response(
    request: Request,
    view: APIView,
    queryset: QuerySet,
    output: type[serializers.Serializer] | Callable[[Any], dict[str, Any]],
) -> Response:
    """One page of `queryset`, each item shaped by `output` (a serializer class, or a function giving
    an item's body), with the page links."""
    paginator = PageNumberPagination()
    page = paginator.paginate_queryset(queryset, request, view=view)
    if isinstance(output, type) and issubclass(output, serializers.BaseSerializer):
        return paginator.get_paginated_response(output(page, many=True).data)
    return paginator.get_paginated_response([output(item) for item in page])
