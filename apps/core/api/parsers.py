"""The API's JSON parser: DRF's, refusing the JSON that parses but breaks whatever reads it next.

Every API view gets its body through this parser (REST_FRAMEWORK["DEFAULT_PARSER_CLASSES"]), so no
view, idempotency fingerprint or database column ever sees such a value. Refusals are ParseErrors,
rendered as 400 problem+json `malformed_request`. A body larger than DATA_UPLOAD_MAX_MEMORY_SIZE is
refused before parsing, by Django, and rendered as 413 `request_too_large` (api/exception_handler.py).
"""

import re
from typing import Any

from rest_framework import parsers
from rest_framework.exceptions import ParseError

# The deepest body the API takes is three levels (a booking's passengers); 32 leaves room and stays
# far below Python's recursion limit, which code walking the data after parsing would otherwise hit.
MAX_JSON_DEPTH = 32
# JSON may escape half of a UTF-16 surrogate pair on its own ("\ud800"); Python keeps it as a lone
# surrogate, which no UTF-8 encoder or utf8mb4 column accepts. A whole pair decodes to one character.
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


class JSONParser(parsers.JSONParser):
    def parse(self, stream: Any, media_type: str | None = None, parser_context: dict | None = None) -> Any:
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:  # the decoder recurses once per level, about 1,000 levels deep
            raise ParseError(_too_deep()) from None
        _refuse_unusable_values(data)
        return data


def _refuse_unusable_values(data: Any) -> None:
    """Walk the parsed body without recursion; raise ParseError at a lone surrogate or excess depth."""
    pending: list[tuple[Any, int]] = [(data, 1)]
    while pending:
        value, depth = pending.pop()
        if isinstance(value, str):
            if _LONE_SURROGATE.search(value):
                raise ParseError("JSON parse error - a string holds a lone surrogate (\\ud800-\\udfff).")
        elif isinstance(value, dict | list):
            if depth > MAX_JSON_DEPTH:
                raise ParseError(_too_deep())
            if isinstance(value, dict):
                pending.extend((key, depth) for key in value)
                value = value.values()
            pending.extend((item, depth + 1) for item in value)


def _too_deep() -> str:
    return f"JSON parse error - nested deeper than {MAX_JSON_DEPTH} levels."
