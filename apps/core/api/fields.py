"""What the API's text input refuses, said once for its serializers and its OpenAPI document."""

# Text is stripped as Python's str.strip() does (DRF's CharField, the Idempotency-Key), and text of
# spaces only is refused as blank: it must hold a character this pattern finds. Spelled out, because
# \s means less in JSON Schema's (ECMA 262) regular expressions than in Python's.
NOT_BLANK = r"[^\t-\r\x1c- \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"
