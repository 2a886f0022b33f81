import uuid

from django import forms

# The simulated gateway's test cards (apps.payments.gateway.SimulatedGateway): token → what the
# traveller sees. Outcomes are decided by the token, so the page offers a choice of them.
TEST_CARDS = [
    ("tok_visa", "Visa ending 4242", "Test card: payment succeeds"),
    ("tok_chargeDeclined", "Visa ending 0002", "Test card: declined"),
    ("tok_insufficientFunds", "Mastercard ending 9995", "Test card: insufficient funds"),
    ("tok_timeout", "Visa ending 0119", "Test card: the bank answers slowly"),
]


class PayForm(forms.Form):
    """The pay form. Its idempotency key is made when the page is rendered, so a double click, a
    reload or a back-and-submit sends the same key and the payment service charges at most once."""

    payment_method = forms.ChoiceField(
        label="Card", choices=[(token, label) for token, label, _ in TEST_CARDS], widget=forms.RadioSelect
    )
    idempotency_key = forms.CharField(max_length=255, widget=forms.HiddenInput)

    @classmethod
    def fresh(cls) -> "PayForm":
        return cls(initial={"payment_method": "tok_visa", "idempotency_key": uuid.uuid4().hex})
