from datetime import timedelta

import pytest
from django.utils import timezone

from apps.accounts.models import AuthSession
from apps.accounts.services import auth_session_start
from apps.accounts.tasks import purge_expired_auth_sessions_task
from apps.accounts.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

ME = "/api/v1/auth/me"


def test_the_purge_deletes_sessions_whose_refresh_token_expired_and_keeps_live_ones(api_client):
    # given one session past its refresh token's expiry and one still live
    user = UserFactory()
    expired, live = auth_session_start(user=user), auth_session_start(user=user)
    AuthSession.objects.filter(sid=expired["sid"]).update(expires_at=timezone.now() - timedelta(seconds=1))

    # when the daily purge runs (twice: it is safe to repeat)
    deleted = purge_expired_auth_sessions_task()
    deleted_again = purge_expired_auth_sessions_task()

    # then only the expired session is gone, and the live one's token still works
    assert (deleted, deleted_again) == (1, 0)
    assert list(AuthSession.objects.values_list("sid", flat=True)) == [live["sid"]]
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {live.access_token}")
    assert api_client.get(ME).status_code == 200
