"""How long the sales dashboard takes on a year of data, measured inside a transaction that is
rolled back: the generated rows never stay in the database (docs/DASHBOARD.md has a run's figures).
"""

import statistics
import time

from django.contrib.auth.models import Permission
from django.core.management.base import BaseCommand, CommandParser
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from apps.accounts.models import User
from apps.dashboard.sample_data import sample_year_create


class RolledBack(Exception):
    """Raised to leave the transaction: everything generated is rolled back."""


class Command(BaseCommand):
    help = "Time the staff sales dashboard on a generated year of bookings (nothing is kept)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--bookings", type=int, default=20_000)
        parser.add_argument("--runs", type=int, default=5)
        parser.add_argument("--period", type=int, choices=(7, 30, 90), default=90)

    def handle(self, *args, bookings: int, runs: int, period: int, **options) -> None:
        try:
            with transaction.atomic():
                self._measure(bookings=bookings, runs=runs, period=period)
                raise RolledBack
        except RolledBack:
            self.stdout.write("The generated data was rolled back.")

    def _measure(self, *, bookings: int, runs: int, period: int) -> None:
        started = time.perf_counter()
        sample = sample_year_create(bookings=bookings, now=timezone.now())
        self.stdout.write(
            f"Generated {sample.bookings:,} bookings, {sample.flights:,} flights and "
            f"{sample.refunds:,} refunds in {time.perf_counter() - started:.1f} s ({connection.vendor})."
        )
        viewer = User.objects.create(email="dashboard-timing@example.com", name="Timing", is_staff=True)
        viewer.user_permissions.add(Permission.objects.get(codename="view_sales_dashboard"))
        client = Client()
        client.force_login(viewer)
        url = f"{reverse('dashboard:sales')}?days={period}"
        timings = []
        for _ in range(runs + 1):  # the first warms the connection and the template cache
            with CaptureQueriesContext(connection) as queries:
                started = time.perf_counter()
                response = client.get(url)
                timings.append((time.perf_counter() - started) * 1000)
            if response.status_code != 200:
                raise RuntimeError(f"The dashboard answered {response.status_code}")
        measured = timings[1:]
        self.stdout.write(
            f"GET {url}: median {statistics.median(measured):.0f} ms, max {max(measured):.0f} ms "
            f"over {runs} runs, {len(queries)} queries taking "
            f"{sum(float(query['time']) for query in queries.captured_queries) * 1000:.0f} ms in the last, "
            f"{len(response.content) // 1024} KiB"
        )
        slowest = sorted(queries.captured_queries, key=lambda query: float(query["time"]), reverse=True)[:3]
        for query in slowest:
            self.stdout.write(f"  {float(query['time']) * 1000:.0f} ms  {query['sql'][:120]}…")
