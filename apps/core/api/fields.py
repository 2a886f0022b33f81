"""What the API's text input takes and refuses, said once for its serializers and its OpenAPI document."""

from typing import Any

from rest_framework import serializers

# Text is stripped as Python's str.strip() does (DRF's CharField, the Idempotency-Key), and text of
# spaces only is refused as blank: it must hold a character this pattern finds. Spelled out, because
# \s means less in JSON Schema's (ECMA 262) regular expressions than in Python's.
NOT_BLANK = r"[^\t-\r\x1c- \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"


class StringField(serializers.CharField):
    """Text, given as a JSON string only. DRF's CharField also takes a number as its text; the API
    documents text as strings (its OpenAPI document) and refuses anything else."""

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)
