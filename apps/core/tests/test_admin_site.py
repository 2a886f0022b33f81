"""The staff admin as a whole: its name and icon, the audit list, and a quiet log for a refusal."""

import logging

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from apps.accounts.tests.factories import UserFactory
from apps.core.audit import audit_record
from apps.core.models import AuditEvent
from apps.core.testing.admin import changelist_queries

pytestmark = pytest.mark.django_db

AUDIT_LIST = reverse("admin:core_auditevent_changelist")


def test_the_admin_is_named_for_the_airline_with_its_icon(client, staff_user):
    client.force_login(staff_user)

    page = client.get(reverse("admin:index")).content.decode()

    assert "<title>Flights, bookings, payments and e-mails | Airline staff</title>" in page
    assert "Airline staff</a>" in page
    assert "Django administration" not in page
    assert 'rel="icon" href="/static/airline/favicon.svg"' in page
    assert 'href="/static/airline/admin.css"' in page


def test_favicon_ico_leads_to_the_airlines_icon(client):
    response = client.get("/favicon.ico")

    assert response.status_code == 301
    assert response["Location"] == "/static/airline/favicon.svg"


def test_staff_refused_a_list_log_one_access_line_and_no_traceback(client, caplog):
    # given staff who may see flights but not payments
    viewer = UserFactory(is_staff=True, staff_group=False)
    viewer.user_permissions.add(Permission.objects.get(codename="view_flight"))
    client.force_login(viewer)
    url = reverse("admin:payments_payment_changelist")

    # when they open the payments list
    with caplog.at_level(logging.DEBUG):
        response = client.get(url)

    # then it is refused, and the log says so in one line without a traceback
    assert response.status_code == 403
    written = [r for r in caplog.records if r.levelno >= logging.INFO and not r.name.startswith("django.db")]
    assert [record.getMessage() for record in written] == [f"GET {url} 403"]
    assert not [record for record in caplog.records if record.exc_info]


def test_the_audit_list_labels_its_times_utc(client, staff_user):
    client.force_login(staff_user)
    event = audit_record(action=AuditEvent.Action.CREATED, subject_type="booking", subject_ref="ABC234")

    page = client.get(AUDIT_LIST).content.decode()

    assert "When (UTC)" in page
    assert f"{event.created_at:%H:%M} UTC</time>" in page


def test_the_audit_list_costs_the_same_queries_for_3_rows_as_for_30(client, staff_user):
    client.force_login(staff_user)

    def events(count: int) -> None:
        for index in range(count):
            audit_record(
                action=AuditEvent.Action.STAFF_CANCELLED,
                subject_type="booking",
                subject_ref=f"REF{index:03d}",
                actor=UserFactory(is_staff=True),
            )

    events(3)
    few = changelist_queries(client, AUDIT_LIST)
    events(27)

    many = changelist_queries(client, AUDIT_LIST)

    assert len(client.get(AUDIT_LIST).context["cl"].result_list) == 30
    assert len(many) == len(few), "\n".join(many)
    assert len(many) <= 8, "\n".join(many)
