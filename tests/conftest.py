"""The story world every test can use.

Acme (developer plan) has an owner, Olivia, and a member, Max. Globex (free plan) belongs to Oscar,
the outsider, who must never see Acme's data. Initech is on the business plan. Each organisation has
a secret key; the raw secrets are the fixtures `acme_token`, `globex_token` and `initech_token`.
Acme's website embeds the tracking page with a publishable key, `acme_publishable_key`.
"""

import os
from pathlib import Path

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from accounts import services
from accounts.models import Membership
from config.celery import app as celery_app
from tests import background
from tests.factories import OrganizationFactory, UserFactory, make_token
from tests.processes import Processes, seeded_sqlite, server_database_url
from tests.support import servers


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix):
    """The SQLite test database is in memory, shared by threads through SQLite's shared cache,
    where a lock conflict fails at once instead of waiting: there, transactions begin deferred
    (SQLite's default). tests/test_sqlite_concurrency.py checks the deployed mode on a file."""
    if settings.DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
        settings.DATABASES["default"]["OPTIONS"].pop("transaction_mode", None)


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _no_burst_limits(settings):
    """Burst rate limits would count every test's requests from 127.0.0.1 together: they are off
    unless a test switches them on (tests/test_rate_limits.py)."""
    settings.RATE_LIMIT_TOKEN_API_PER_MIN = 0
    settings.RATE_LIMIT_TOKEN_PAGE_PER_MIN = 0
    settings.RATE_LIMIT_TOKEN_WEBSOCKET_PER_MIN = 0
    settings.RATE_LIMIT_IP_PER_MIN = 0
    # allauth's own limits (e.g. one confirmation e-mail per address per 3 minutes) live in the
    # cache, which is a shared Redis under CI: a run minutes earlier must not change this one.
    settings.ACCOUNT_RATE_LIMITS = False


@pytest.fixture
def owner(db):
    return UserFactory(username="olivia@acme.test")


@pytest.fixture
def member(db):
    return UserFactory(username="max@acme.test")


@pytest.fixture
def outsider(db):
    return UserFactory(username="oscar@globex.test")


@pytest.fixture
def acme(owner, member):
    org = OrganizationFactory(name="Acme", plan="developer")
    services.membership_add(organization=org, user=owner, role=Membership.Role.OWNER)
    services.membership_add(organization=org, user=member, role=Membership.Role.MEMBER)
    return org


@pytest.fixture
def globex(outsider):
    org = OrganizationFactory(name="Globex", plan="free")
    services.membership_add(organization=org, user=outsider, role=Membership.Role.OWNER)
    return org


@pytest.fixture
def initech(db):
    boss = UserFactory(username="bill@initech.test")
    org = OrganizationFactory(name="Initech", plan="business", custom_monthly_calls=20_000)
    services.membership_add(organization=org, user=boss, role=Membership.Role.OWNER)
    return org


@pytest.fixture
def acme_token(acme, owner):
    return make_token(acme, name="Acme app", created_by=owner)


@pytest.fixture
def acme_publishable_key(acme, owner):
    return make_token(acme, name="Acme website", kind="publishable", created_by=owner)


@pytest.fixture
def globex_token(globex, outsider):
    return make_token(globex, name="Globex app", created_by=outsider)


@pytest.fixture
def initech_token(initech):
    return make_token(initech, name="Initech app")


@pytest.fixture
def api_client():
    return APIClient()


@pytest.fixture
def acme_api(acme_token):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {acme_token}")
    return client


@pytest.fixture(scope="session")
def shared_media(tmp_path_factory):
    return tmp_path_factory.mktemp("analysis-media")


@pytest.fixture(scope="session")
def _celery_worker_process(django_db_setup, django_db_blocker, shared_media, tmp_path_factory):
    """With Celery configured (CI: Redis), one real worker process for the whole session, on the
    test database, the test media folder and a private queue (what it queues itself, callbacks,
    comes back to it)."""
    if not background.uses_celery():
        yield None
        return
    queue = background.worker_queue()
    celery_app.conf.task_default_queue = queue
    processes = Processes(tmp_path_factory.mktemp("celery-worker"), base_env=dict(os.environ))
    env = {
        "DATABASE_URL": server_database_url(),
        "MEDIA_ROOT": str(shared_media),
        "CELERY_QUEUE": queue,
    }
    try:
        yield processes.celery_worker("worker", queue, env)
    finally:
        with django_db_blocker.unblock():  # closing looks for database sessions left behind
            processes.close()


@pytest.fixture
def worker(_celery_worker_process, shared_media, settings):
    """Background analysis as deployed: a Celery worker, or the in-process runner by default.

    Both see the same media folder as the test.
    """
    settings.MEDIA_ROOT = shared_media
    return _celery_worker_process


@pytest.fixture(scope="module")
def seeded_server(tmp_path_factory):
    """A Daphne on a SQLite file of its own with the demo organisation (any test database), for a
    module's tests: (port, the demo publishable key); stopped after them. It never opens the test
    database, so stopping it waits for no database session of its own."""
    directory = tmp_path_factory.mktemp("seeded-server")
    database_url, keys = seeded_sqlite(directory)
    processes = servers.Processes(directory, base_env=dict(os.environ))
    port = servers.free_port()
    env = {"DATABASE_URL": database_url, "MEDIA_ROOT": str(directory / "media")}
    try:
        processes.daphne("daphne", port, env)
        yield port, keys["DEMO_PUBLISHABLE_KEY"]
    finally:
        processes.close()


def pytest_sessionfinish(session, exitstatus):
    """Django removes a SQLite test database's file, not WAL's two files beside it."""
    name = settings.DATABASES["default"].get("TEST", {}).get("NAME")
    if name:
        for suffix in ("-wal", "-shm"):
            Path(name + suffix).unlink(missing_ok=True)
