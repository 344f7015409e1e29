"""Dashboard fixtures on top of the story world: signed-in clients for each character.

Acme (developer): Olivia owns it, Max is a member, and Ada is added here as its admin.
Globex (free): Oscar, the outsider. Initech (business): Bill owns it.
"""

import datetime

import pytest
from django.test import Client

from accounts import services
from accounts.models import ApiToken, Membership, UsageRecord
from tests.factories import UserFactory


def signed_in(user, *, csrf: bool = False) -> Client:
    client = Client(enforce_csrf_checks=csrf)
    client.force_login(user)
    return client


@pytest.fixture
def acme_admin(acme):
    user = UserFactory(username="ada@acme.test")
    services.membership_add(organization=acme, user=user, role=Membership.Role.ADMIN)
    return user


@pytest.fixture
def owner_client(owner, acme):
    return signed_in(owner)


@pytest.fixture
def member_client(member, acme):
    return signed_in(member)


@pytest.fixture
def admin_client_acme(acme_admin):
    return signed_in(acme_admin)


@pytest.fixture
def outsider_client(outsider, globex):
    return signed_in(outsider)


@pytest.fixture
def bill(initech):
    return Membership.objects.get(organization=initech, role="owner").user


@pytest.fixture
def bill_client(bill):
    return signed_in(bill)


# A month of usage for Initech (business): two tokens made by two members, a deleted token's rows,
# four exercises (one "" for reference movements), both kinds, spread over March 2026.
SEED_MONTH = datetime.date(2026, 3, 1)


@pytest.fixture
def seeded_usage(initech, bill):
    carol = UserFactory(username="carol@initech.test")
    services.membership_add(organization=initech, user=carol, role=Membership.Role.MEMBER)
    web, _ = services.token_create(organization=initech, name="Web", created_by=bill)
    ios, _ = services.token_create(organization=initech, name="iOS", created_by=carol)
    gone, _ = services.token_create(organization=initech, name="Gone", created_by=carol)
    rows = []
    plan = [
        (web, "squat", "live", 1, 12, 300.5),
        (web, "squat", "upload", 1, 3, 95.0),
        (web, "plank", "live", 2, 5, 610.0),
        (ios, "squat", "live", 2, 7, 210.25),
        (ios, "", "live", 9, 4, 120.0),
        (ios, "push_up", "upload", 15, 2, 40.0),
        (web, "push_up", "live", 31, 9, 333.0),
        (gone, "plank", "live", 20, 6, 600.0),
    ]
    for token, exercise, kind, day, calls, seconds in plan:
        rows.append(
            UsageRecord.objects.create(
                organization=initech,
                token=token,
                exercise=exercise,
                kind=kind,
                day=SEED_MONTH.replace(day=day),
                calls=calls,
                seconds_tracked=seconds,
            )
        )
    # A row outside the month and a row of another organisation must never be counted.
    UsageRecord.objects.create(
        organization=initech,
        token=web,
        exercise="squat",
        kind="live",
        day=datetime.date(2026, 4, 1),
        calls=1000,
        seconds_tracked=1000,
    )
    gone_id = gone.pk
    ApiToken.objects.filter(pk=gone_id).delete()  # its rows stay, without a token
    for row in rows:
        row.refresh_from_db()
    return {"rows": rows, "web": web, "ios": ios, "carol": carol, "bill": bill}
