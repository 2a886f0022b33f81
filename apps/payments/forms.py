from django import forms

from apps.core.forms import IdempotentForm

# The simulated gateway's test cards (apps.payments.gateway.SimulatedGateway): token → what the
# traveller sees. Outcomes are decided by the token, so the page offers a choice of them.
TEST_CARDS = [
    ("tok_visa", "Visa ending 4242", "Test card: payment succeeds"),
    ("tok_chargeDeclined", "Visa ending 0002", "Test card: declined"),
    ("tok_insufficientFunds", "Mastercard ending 9995", "Test card: insufficient funds"),
    ("tok_timeout", "Visa ending 0119", "Test card: the bank answers slowly"),
]


class PayForm(IdempotentForm):
    """The pay form. Its idempotency key (made when the page is rendered) is the payment's, so the
    payment service charges at most once for a double click, a reload or a back-and-submit."""

    payment_method = forms.ChoiceField(
        label="Card", choices=[(token, label) for token, label, _ in TEST_CARDS], widget=forms.RadioSelect
    )


class ChangeConfirmForm(IdempotentForm):
    """The flight change's confirm page: the quote the traveller was shown (its token) and, when the
    change costs something, the card. Its idempotency key makes a double click or a reload change and
    charge once (apps/payments/services/changes.py)."""

    quote = forms.CharField(max_length=1000, widget=forms.HiddenInput)
    payment_method = forms.ChoiceField(
        label="Card",
        required=False,
        choices=[(token, label) for token, label, _ in TEST_CARDS],
        widget=forms.RadioSelect,
    )
