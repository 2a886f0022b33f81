from drf_spectacular.openapi import AutoSchema as BaseAutoSchema


class AutoSchema(BaseAutoSchema):
    """Names nested serializers after their view (`UserSignupApi.Input` → `UserSignupInput`).

    The house style nests `Input`/`Output` serializers in each API view, so the class name alone is
    not unique across the schema.
    """

    def get_serializer_name(self, serializer, direction) -> str:
        qualname = serializer.__class__.__qualname__
        if "." in qualname:
            return qualname.replace("Api.", "").replace(".", "")
        return super().get_serializer_name(serializer, direction)
