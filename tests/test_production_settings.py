"""Production (DJANGO_DEBUG=False) refuses settings that are only safe on a developer's machine:
`check --deploy` fails on each, and neither the server nor the Celery worker starts with it.

Each case is the safe production environment of tests/test_security.py with one thing wrong, run
in fresh processes as an operator would run them."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.processes import Processes, http
from tests.support.servers import free_port
from tests.test_security import PRODUCTION_ENV

ROOT = Path(__file__).resolve().parent.parent
START_TIMEOUT_S = 60

pytestmark = pytest.mark.slow  # every test starts the server, the worker or manage.py

UNSAFE = {
    "the built-in development key": (
        {"DJANGO_SECRET_KEY": None},
        "formtrack.E001",
        "DJANGO_SECRET_KEY is the built-in development key",
    ),
    "the example env's secret key": (
        {"DJANGO_SECRET_KEY": "change-me-to-50-or-more-random-characters"},
        "formtrack.E002",
        "DJANGO_SECRET_KEY is still the 'change-me' placeholder",
    ),
    "the example env's token pepper": (
        {"API_TOKEN_PEPPER": "change-me-too"},
        "formtrack.E002",
        "API_TOKEN_PEPPER is still the 'change-me' placeholder",
    ),
    "the example env's database password": (
        {"DATABASE_URL": "postgres://formtrack:change-me@postgres:5432/formtrack"},
        "formtrack.E002",
        "DATABASES['default'] password is still the 'change-me' placeholder",
    ),
    "the console e-mail backend": (
        {"EMAIL_URL": None},
        "formtrack.E003",
        "EMAIL_BACKEND is django.core.mail.backends.console.EmailBackend",
    ),
    "a short secret key": (
        {"DJANGO_SECRET_KEY": "secret"},
        "formtrack.E005",
        "DJANGO_SECRET_KEY is too weak",
    ),
    "a django-insecure- secret key": (
        {"DJANGO_SECRET_KEY": "django-insecure-" + "k7Qz4mW9xR2pL8vN3cT6yB1hJ5dF0gS" * 2},
        "formtrack.E005",
        "DJANGO_SECRET_KEY is too weak",
    ),
    "a secret key of few distinct characters": (
        {"DJANGO_SECRET_KEY": "abcd" * 20},
        "formtrack.E005",
        "DJANGO_SECRET_KEY is too weak",
    ),
    "any host name": (
        {"DJANGO_ALLOWED_HOSTS": "formtrack.example.com,*"},
        "formtrack.E006",
        "DJANGO_ALLOWED_HOSTS contains '*'",
    ),
    "callbacks to private addresses": (
        {"CALLBACK_ALLOW_PRIVATE_HOSTS": "True"},
        "formtrack.E004",
        "CALLBACK_ALLOW_PRIVATE_HOSTS is on",
    ),
}


def production_env(tmp_path: Path, **changes: str | None) -> dict:
    """The safe production environment with `changes` (None removes a variable)."""
    env = {
        **os.environ,
        **PRODUCTION_ENV,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "MEDIA_ROOT": str(tmp_path / "media"),
    }
    for name, value in changes.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


def run(env: dict, *arguments: str) -> subprocess.CompletedProcess:
    """Our interpreter in a fresh process; a process that does not exit in time fails the test."""
    return subprocess.run(  # noqa: S603 - our own interpreter, fixed arguments
        [sys.executable, *arguments],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=START_TIMEOUT_S,
    )


@pytest.mark.parametrize(("changes", "check_id", "message"), UNSAFE.values(), ids=UNSAFE.keys())
def test_check_deploy_refuses_an_unsafe_production_setting(tmp_path, changes, check_id, message):
    result = run(production_env(tmp_path, **changes), "manage.py", "check", "--deploy")
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert check_id in output and message in output, output


@pytest.mark.parametrize(("changes", "check_id", "message"), UNSAFE.values(), ids=UNSAFE.keys())
def test_the_server_does_not_start_with_an_unsafe_production_setting(
    tmp_path, changes, check_id, message
):
    port = free_port()
    result = run(
        production_env(tmp_path, **changes),
        *("-m", "config.daphne", "-b", "127.0.0.1", "-p", str(port), "config.asgi:application"),
    )
    assert result.returncode != 0
    assert "Refusing to start with DJANGO_DEBUG=False" in result.stderr, result.stderr[-3000:]
    assert message in result.stderr and check_id in result.stderr


def test_the_example_env_is_refused_until_every_change_me_is_replaced(tmp_path):
    example = dict(
        line.split("=", 1)
        for line in (ROOT / "deploy" / "env.example").read_text().splitlines()
        if line and not line.startswith("#")
    )
    # As compose.yaml builds it from POSTGRES_PASSWORD, and the image's DJANGO_DEBUG.
    example["DATABASE_URL"] = f"postgres://formtrack:{example['POSTGRES_PASSWORD']}@postgres/ft"
    env = {**os.environ, **example, "DJANGO_DEBUG": "False"}
    result = run(env, "manage.py", "check", "--deploy")
    output = result.stdout + result.stderr
    assert result.returncode != 0
    for name in ("DJANGO_SECRET_KEY", "API_TOKEN_PEPPER", "EMAIL_URL password", "DATABASES"):
        assert name in output and "'change-me' placeholder" in output, output


def test_the_worker_does_not_start_with_an_unsafe_production_setting(tmp_path):
    env = production_env(tmp_path, DJANGO_SECRET_KEY=None, REDIS_URL=None)
    result = run(
        env,
        *("-m", "celery", "-A", "config", "worker", "--pool=solo", "-Q", f"refused-{os.getpid()}"),
        *("--without-heartbeat", "--without-gossip", "--without-mingle"),
    )
    assert result.returncode != 0
    assert "Refusing to start with DJANGO_DEBUG=False" in result.stderr, result.stderr[-3000:]
    assert "formtrack.E001" in result.stderr


@pytest.mark.django_db  # closing the processes looks for database sessions left behind
def test_a_safe_production_configuration_passes_and_serves(tmp_path):
    env = production_env(tmp_path)
    result = run(env, "manage.py", "check", "--deploy")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "formtrack." not in result.stdout + result.stderr

    processes = Processes(tmp_path, base_env=env)
    try:
        port = free_port()
        processes.daphne("daphne", port)
        status, _, body = http(
            "GET",
            f"http://127.0.0.1:{port}/api/v1/me",
            headers={"Host": "formtrack.example.com", "X-Forwarded-Proto": "https"},
        )
        assert status == 401, body  # served by Django: no token
    finally:
        processes.close()
