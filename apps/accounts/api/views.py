from django.core.exceptions import ObjectDoesNotExist
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.serializers import TokenRefreshSerializer
from rest_framework_simplejwt.tokens import RefreshToken
from rest_framework_simplejwt.views import TokenObtainPairView, TokenRefreshView

from apps.accounts.models import User
from apps.accounts.ratelimits import SIGNIN_RATE_LIMIT
from apps.accounts.services import user_create
from apps.core.exceptions import ValidationFailed
from apps.core.ratelimit import ip_key, rate_limit


class UserOutput(serializers.ModelSerializer):
    role = serializers.CharField(read_only=True)

    class Meta:
        model = User
        fields = ["id", "email", "name", "role", "date_joined"]


class UserSignupApi(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list = []

    class Input(serializers.Serializer):
        email = serializers.EmailField(max_length=254)
        password = serializers.CharField(max_length=128, trim_whitespace=False)
        name = serializers.CharField(max_length=150)

    @extend_schema(request=Input, responses={201: UserOutput})
    @rate_limit(group="signup", key=ip_key, rate_setting="RATELIMIT_SIGNUP", fail_open=False)
    def post(self, request: Request) -> Response:
        serializer = self.Input(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = user_create(**serializer.validated_data)
        return Response(UserOutput(user).data, status=status.HTTP_201_CREATED)


class UserTokenObtainApi(TokenObtainPairView):
    """Sign-in: a JWT pair for email + password; limited per client IP, failing closed."""

    @rate_limit(**SIGNIN_RATE_LIMIT)
    def post(self, request: Request, *args, **kwargs) -> Response:
        return super().post(request, *args, **kwargs)


class UserTokenRefreshInput(TokenRefreshSerializer):
    """A refresh token in; a new access token and the rotated refresh token out."""

    def validate(self, attrs: dict) -> dict:
        try:
            return super().validate(attrs)
        except ObjectDoesNotExist:
            # simplejwt 5.5 lets the lookup of a deleted user escape as a 500: make it a dead token.
            raise AuthenticationFailed(
                self.error_messages["no_active_account"], "no_active_account"
            ) from None


class UserTokenRefreshApi(TokenRefreshView):
    """A new access token and a rotated refresh token; the one presented is blacklisted.

    A blacklisted, expired or malformed token, or one whose user is deactivated or gone, is a 401.
    """

    serializer_class = UserTokenRefreshInput


class UserLogoutApi(APIView):
    """Blacklists the refresh token, so it can no longer be used to obtain access tokens."""

    permission_classes = [IsAuthenticated]

    class Input(serializers.Serializer):
        refresh = serializers.CharField()

    @extend_schema(request=Input, responses={204: None})
    def post(self, request: Request) -> Response:
        serializer = self.Input(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            token = RefreshToken(serializer.validated_data["refresh"])
            if token.get("user_id") != str(request.user.pk) and token.get("user_id") != request.user.pk:
                raise TokenError("token belongs to another user")
            token.blacklist()
        except TokenError:
            raise ValidationFailed(
                "The refresh token is invalid or expired.", errors={"refresh": ["Invalid or expired token."]}
            ) from None
        return Response(status=status.HTTP_204_NO_CONTENT)


class UserMeApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses={200: UserOutput})
    def get(self, request: Request) -> Response:
        return Response(UserOutput(request.user).data)
