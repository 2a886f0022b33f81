"""The dashboard costs the same few queries on a year of data as on a handful of bookings."""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from apps.bookings.models import Booking
from apps.dashboard.sample_data import sample_year_create
from apps.payments.models import Refund

pytestmark = pytest.mark.django_db

URL = reverse("dashboard:sales")
# The session and the user (2), the user's and its groups' permissions (2), and the six figures
# (apps/dashboard/selectors.py: sales_figures_get).
QUERIES = 10


def dashboard_queries(client: Client, days: int) -> list[str]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(URL, {"days": days})
    assert response.status_code == 200
    return [query["sql"] for query in queries.captured_queries]


@pytest.fixture
def staff_client(staff_user) -> Client:
    client = Client()
    client.force_login(staff_user)
    return client


@pytest.mark.parametrize("days", [7, 90])
def test_a_few_bookings_cost_a_fixed_number_of_queries(staff_client, days):
    sample_year_create(bookings=40, days=30, now=timezone.now())

    assert len(dashboard_queries(staff_client, days)) == QUERIES


@pytest.mark.slow
def test_a_year_of_bookings_costs_the_same_queries(staff_client):
    # given a year of sales: 20,000 bookings over 365 days, their payments and refunds
    sample = sample_year_create(bookings=20_000, days=365, now=timezone.now())
    assert Booking.objects.count() == sample.bookings == 20_000
    assert Refund.objects.count() == sample.refunds > 1_000

    # when staff open the dashboard for the longest period
    queries = dashboard_queries(staff_client, 90)

    # then it took the same queries as with a few bookings, each figure one aggregate query
    assert len(queries) == QUERIES
    assert sum("GROUP BY" in sql for sql in queries) == 5
