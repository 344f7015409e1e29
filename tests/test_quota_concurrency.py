"""Two requests racing for the last call of the month: exactly one may win (PostgreSQL)."""

import threading
import time

import pytest
from django.db import connection, connections, transaction
from django.utils import timezone

from accounts import services
from accounts.errors import AccessError
from accounts.models import MonthlyUsage
from tests.support.needs import needs

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    needs(connection.vendor != "postgresql", "needs DATABASE_URL pointing at PostgreSQL"),
]


def _race_for_last_call(token_raw) -> list[str]:
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def take():
        try:
            token = services.token_authenticate(token_raw)
            barrier.wait(timeout=10)
            with transaction.atomic():
                services.usage_take_call(token=token, exercise="squat", kind="live")
                # Hold the row lock a moment so the other request really overlaps this one.
                time.sleep(0.2)
            outcomes.append("taken")
        except AccessError as error:
            outcomes.append(error.code)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=take) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return sorted(outcomes)


def test_two_concurrent_takes_of_the_last_call_let_exactly_one_succeed(globex, globex_token):
    month = timezone.localdate().replace(day=1)
    for _ in range(3):
        MonthlyUsage.objects.update_or_create(
            organization=globex, month=month, defaults={"calls": 499}
        )
        assert _race_for_last_call(globex_token) == ["quota_exceeded", "taken"]
        assert MonthlyUsage.objects.get(organization=globex, month=month).calls == 500
