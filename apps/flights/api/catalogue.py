"""The catalogue's reference data in the API: cities, airports (autocomplete) and airplanes."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.api.fields import StringField
from apps.core.api.schema import problems
from apps.core.exceptions import PermissionDenied
from apps.core.pagination import PAGE_PARAMETERS, paginated, paginated_response
from apps.core.permissions import ModelPermissionsOrReadOnly
from apps.flights.api.serializers import AirplaneOutput, AirportOutput, CityOutput
from apps.flights.exceptions import AirplaneInService, AirplaneNotFound
from apps.flights.models import Airplane, Airport, Cabin, City
from apps.flights.selectors import airplane_get, airplane_list, airport_search, city_list
from apps.flights.services import airplane_create, airplane_delete, airplane_update


class CityListApi(APIView):
    permission_classes = [ModelPermissionsOrReadOnly]
    permission_model = City

    @extend_schema(
        operation_id="cities_list", parameters=PAGE_PARAMETERS, responses={200: paginated(CityOutput)}
    )
    def get(self, request: Request) -> Response:
        return paginated_response(request, self, city_list(), CityOutput)


class AirportListApi(APIView):
    """Airports for autocomplete: `q` is a prefix of the IATA code, the name or the city."""

    permission_classes = [ModelPermissionsOrReadOnly]
    permission_model = Airport

    class FilterInput(serializers.Serializer):
        q = serializers.CharField(required=False, allow_blank=True, max_length=100)

    @extend_schema(
        operation_id="airports_list",
        parameters=[FilterInput, *PAGE_PARAMETERS],
        responses={200: paginated(AirportOutput)},
    )
    def get(self, request: Request) -> Response:
        filters = self.FilterInput(data=request.query_params)
        filters.is_valid(raise_exception=True)
        airports = airport_search(q=filters.validated_data.get("q", ""))
        return paginated_response(request, self, airports, AirportOutput)


class CabinSectionInput(serializers.Serializer):
    cabin = serializers.ChoiceField(choices=Cabin.choices)
    first_row = serializers.IntegerField()
    last_row = serializers.IntegerField()
    seat_letters = StringField(max_length=12)


class AirplaneInput(serializers.Serializer):
    model_name = StringField(max_length=50)
    registration = StringField(max_length=10)
    cabin_sections = CabinSectionInput(many=True, allow_empty=False)


class AirplaneListCreateApi(APIView):
    permission_classes = [ModelPermissionsOrReadOnly]
    permission_model = Airplane

    @extend_schema(
        operation_id="airplanes_list", parameters=PAGE_PARAMETERS, responses={200: paginated(AirplaneOutput)}
    )
    def get(self, request: Request) -> Response:
        return paginated_response(request, self, airplane_list(), AirplaneOutput)

    @extend_schema(request=AirplaneInput, responses={201: AirplaneOutput, **problems(PermissionDenied)})
    def post(self, request: Request) -> Response:
        serializer = AirplaneInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        airplane = airplane_create(**serializer.validated_data)
        return Response(
            AirplaneOutput(airplane_get(airplane_id=airplane.pk)).data, status=status.HTTP_201_CREATED
        )


class AirplaneDetailApi(APIView):
    permission_classes = [ModelPermissionsOrReadOnly]
    permission_model = Airplane

    @extend_schema(responses={200: AirplaneOutput, **problems(AirplaneNotFound)})
    def get(self, request: Request, airplane_id: int) -> Response:
        return Response(AirplaneOutput(airplane_get(airplane_id=airplane_id)).data)

    @extend_schema(
        request=AirplaneInput(partial=True),
        responses={200: AirplaneOutput, **problems(PermissionDenied, AirplaneNotFound, AirplaneInService)},
    )
    def patch(self, request: Request, airplane_id: int) -> Response:
        serializer = AirplaneInput(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        airplane_update(airplane_id=airplane_id, data=serializer.validated_data)
        return Response(AirplaneOutput(airplane_get(airplane_id=airplane_id)).data)

    @extend_schema(responses={204: None, **problems(PermissionDenied, AirplaneNotFound, AirplaneInService)})
    def delete(self, request: Request, airplane_id: int) -> Response:
        airplane_delete(airplane_id=airplane_id)
        return Response(status=status.HTTP_204_NO_CONTENT)
