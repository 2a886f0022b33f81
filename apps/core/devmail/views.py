import ipaddress
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from apps.core.devmail.selectors import StoredEmail, stored_email_get, stored_email_list
from apps.core.email_preview import email_html_view

OUTBOX_BACKEND = "apps.core.devmail.backend.OutboxFileBackend"


def _from_this_machine(request: HttpRequest) -> bool:
    try:
        address = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return address.is_loopback


def viewer_enabled(request: HttpRequest) -> bool:
    """Only under DEBUG, only while the outbox backend sends the mail, only to this machine."""
    return settings.DEBUG and settings.EMAIL_BACKEND == OUTBOX_BACKEND and _from_this_machine(request)


def dev_only(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not viewer_enabled(request):
            raise Http404("No such page.")
        return view(request, *args, **kwargs)

    return require_GET(wrapped)


def _email_or_404(message_id: str) -> StoredEmail:
    email = stored_email_get(message_id=message_id)
    if email is None:
        raise Http404("No such email.")
    return email


@dev_only
def mail_list(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "core/devmail/list.html",
        {"emails": stored_email_list(), "directory": settings.EMAIL_FILE_PATH},
    )


@dev_only
def mail_detail(request: HttpRequest, message_id: str) -> HttpResponse:
    return render(request, "core/devmail/detail.html", {"email": _email_or_404(message_id)})


@dev_only
@email_html_view
def mail_html(request: HttpRequest, message_id: str) -> HttpResponse:
    email = _email_or_404(message_id)
    if not email.html:
        raise Http404("This email has no HTML part.")
    return HttpResponse(email.html, content_type="text/html; charset=utf-8")


@dev_only
def mail_raw(request: HttpRequest, message_id: str) -> HttpResponse:
    return HttpResponse(_email_or_404(message_id).raw, content_type="text/plain; charset=utf-8")
