"""The admin's sign-in page limits attempts per client address and per username (the dashboard's
sign-in has allauth's own limits): past RATE_LIMIT_ADMIN_LOGIN_PER_MIN a minute, 429 `rate_limited`
with Retry-After, before the password is checked."""

import uuid

import pytest
from allauth.account.models import EmailAddress
from django.test import Client

from config import ratelimit
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

LIMIT = 10


@pytest.fixture(autouse=True)
def _counted_apart(settings, monkeypatch):
    settings.RATE_LIMIT_CACHE_PREFIX = f"ratelimit-test-{uuid.uuid4().hex}"
    settings.RATE_LIMIT_ADMIN_LOGIN_PER_MIN = LIMIT
    # Mid-window, so that no minute ends (and no count restarts) during a test.
    monkeypatch.setattr(ratelimit.time, "time", lambda: 1_000_020.0)


@pytest.fixture
def superuser(db):
    return UserFactory(username="root@formtrack.test", is_staff=True, is_superuser=True)


def sign_in(username: str, password: str, address: str = "203.0.113.7"):
    return Client().post(
        "/admin/login/",
        {"username": username, "password": password, "next": "/admin/"},
        REMOTE_ADDR=address,
    )


def assert_rate_limited(response):
    assert response.status_code == 429
    assert response.json()["code"] == "rate_limited"
    assert 1 <= int(response["Retry-After"]) <= 60


def test_password_guesses_from_one_address_are_refused_past_the_limit(superuser):
    for i in range(LIMIT):
        response = sign_in(f"guess{i}@formtrack.test", "wrong")
        assert response.status_code == 200  # the form again, with its error
    assert_rate_limited(sign_in("root@formtrack.test", "correct horse battery staple"))
    # Another address is not held back by this one's guesses.
    assert sign_in("root@formtrack.test", "wrong", address="198.51.100.1").status_code == 200


def test_password_guesses_on_one_username_are_refused_from_any_address(superuser):
    for i in range(LIMIT):
        response = sign_in("Root@formtrack.test ", "wrong", address=f"198.51.100.{i + 1}")
        assert response.status_code == 200
    assert_rate_limited(sign_in("root@formtrack.test", "wrong", address="192.0.2.99"))


def test_the_right_password_within_the_limit_signs_in(superuser):
    response = sign_in("root@formtrack.test", "correct horse battery staple")
    assert response.status_code == 302 and response["Location"] == "/admin/"


def test_every_name_of_an_account_shares_its_budget(superuser):
    # The admin signs in with the username, the e-mail address (allauth's backend) or another
    # address of the account: all count against the one account, whatever their case.
    superuser.username, superuser.email = "root", "root@formtrack.test"
    superuser.save()
    EmailAddress.objects.create(user=superuser, email="ops@formtrack.test", verified=True)
    names = ["root", "ROOT@formtrack.test", "Ops@Formtrack.test ", "root@formtrack.test"]
    for i in range(LIMIT):
        response = sign_in(names[i % len(names)], "wrong", address=f"198.51.100.{i + 1}")
        assert response.status_code == 200
    for name in names:
        assert_rate_limited(sign_in(name, "correct horse battery staple", address="192.0.2.99"))
    # A name no account has keeps its own budget.
    assert sign_in("nobody", "wrong", address="192.0.2.98").status_code == 200
