"""An e-mail's HTML shown inside one of our pages: in a sandboxed frame, under a policy of its own.

The site's policy (settings.CONTENT_SECURITY_POLICY) allows no inline style, and an e-mail is all
inline style: a frame's `srcdoc` would inherit that policy and show the message unstyled. So the HTML
is served from a URL of its own with the policy below (its inline styles and data: images only; no
script, no outside resource, no form), framed by our own pages alone; the frame's `sandbox`
attribute says the same from the other side. The page around it keeps the site's policy unchanged.
Used by the development mail viewer (apps/core/devmail/views.py) and the admin's outbox
(apps/notifications/admin.py).
"""

from collections.abc import Callable
from functools import wraps
from typing import Any

from csp.constants import NONE, SELF, UNSAFE_INLINE
from csp.decorators import csp
from django.http import HttpRequest, HttpResponse
from django.views.decorators.clickjacking import xframe_options_sameorigin

EMAIL_HTML_POLICY = {
    "default-src": [NONE],
    "style-src": [UNSAFE_INLINE],
    "img-src": [SELF, "data:"],
    "base-uri": [NONE],
    "form-action": [NONE],
    "frame-ancestors": [SELF],
    "sandbox": True,
}


def email_html_view(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """A view answering an e-mail's HTML: framable by our pages, under EMAIL_HTML_POLICY."""

    @wraps(view)
    @xframe_options_sameorigin
    @csp(EMAIL_HTML_POLICY)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return view(request, *args, **kwargs)

    return wrapped
