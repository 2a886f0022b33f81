from drf_spectacular.contrib.rest_framework_simplejwt import TokenObtainPairSerializerExtension
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt.serializers import TokenObtainPairSerializer
from rest_framework_simplejwt.views import TokenObtainPairView

from apps.accounts.exceptions import SessionRefused
from apps.accounts.models import User
from apps.accounts.ratelimits import SIGNIN_RATE_LIMIT
from apps.accounts.services import auth_session_end, auth_session_refresh, auth_session_start, user_create
from apps.accounts.tokens import SessionRefreshToken
from apps.core.api.fields import StringField
from apps.core.api.schema import problems
from apps.core.ratelimit import RateLimited, RateLimiterUnavailable, ip_key, rate_limit


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
        password = StringField(max_length=128, trim_whitespace=False)
        name = StringField(max_length=150)

    @extend_schema(
        request=Input, responses={201: UserOutput, **problems(RateLimited, RateLimiterUnavailable)}
    )
    @rate_limit(group="signup", key=ip_key, rate_setting="RATELIMIT_SIGNUP", fail_open=False)
    def post(self, request: Request) -> Response:
        serializer = self.Input(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = user_create(**serializer.validated_data)
        return Response(UserOutput(user).data, status=status.HTTP_201_CREATED)


class UserTokenObtainSerializer(TokenObtainPairSerializer):
    """simplejwt's email + password check; the pair it returns starts a session."""

    @classmethod
    def get_token(cls, user: User) -> SessionRefreshToken:
        return auth_session_start(user=user)


class UserTokenObtainSerializerSchema(TokenObtainPairSerializerExtension):
    """The schema drf-spectacular gives simplejwt's pair serializer: credentials in, the pair out."""

    target_class = UserTokenObtainSerializer


class UserTokenObtainApi(TokenObtainPairView):
    """Sign-in: a JWT pair for email + password, starting a session; limited per client IP, failing closed."""

    serializer_class = UserTokenObtainSerializer

    @extend_schema(
        responses={
            200: UserTokenObtainSerializer,
            **problems(SessionRefused, RateLimited, RateLimiterUnavailable),
        }
    )
    @rate_limit(**SIGNIN_RATE_LIMIT)
    def post(self, request: Request, *args, **kwargs) -> Response:
        return super().post(request, *args, **kwargs)


class UserTokenRefreshApi(APIView):
    """A new access token and the session's next refresh token; the one presented is spent.

    Of concurrent requests with the same refresh token exactly one succeeds. A spent, logged-out,
    expired or malformed token, or one whose user is deactivated, gone or has changed password, is a 401.
    """

    permission_classes = [AllowAny]
    authentication_classes: list = []

    class Input(serializers.Serializer):
        refresh = StringField()

    class Output(serializers.Serializer):
        access = serializers.CharField()
        refresh = serializers.CharField()

    @extend_schema(request=Input, responses={200: Output, **problems(SessionRefused)})
    def post(self, request: Request) -> Response:
        serializer = self.Input(data=request.data)
        serializer.is_valid(raise_exception=True)
        rotated = auth_session_refresh(refresh=serializer.validated_data["refresh"])
        return Response(self.Output({"access": str(rotated.access_token), "refresh": str(rotated)}).data)


class UserLogoutApi(APIView):
    """Ends the session of the refresh token: its access and refresh tokens are refused from now on."""

    permission_classes = [IsAuthenticated]

    class Input(serializers.Serializer):
        refresh = StringField()

    @extend_schema(request=Input, responses={204: None})
    def post(self, request: Request) -> Response:
        serializer = self.Input(data=request.data)
        serializer.is_valid(raise_exception=True)
        auth_session_end(user=request.user, refresh=serializer.validated_data["refresh"])
        return Response(status=status.HTTP_204_NO_CONTENT)


class UserMeApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses={200: UserOutput})
    def get(self, request: Request) -> Response:
        return Response(UserOutput(request.user).data)
