import uuid
from typing import Any, Self

from django import forms

from apps.core.idempotency import MAX_KEY_LENGTH


class IdempotentForm(forms.Form):
    """A form whose submission must take effect at most once (a hold, a payment).

    Its idempotency key is made when the page is rendered, so a double click, a reload or a
    back-and-submit of the same page sends the same key, and the service acting on it does the work
    once. Render the hidden field in the template; build the page's form with `fresh()`.
    """

    idempotency_key = forms.CharField(max_length=MAX_KEY_LENGTH, widget=forms.HiddenInput)

    @classmethod
    def fresh(cls, **initial: Any) -> Self:
        """An unbound form for a newly rendered page: `initial` plus a new key."""
        return cls(initial={**initial, "idempotency_key": uuid.uuid4().hex})
