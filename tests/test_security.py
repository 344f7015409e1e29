"""Deployment hardening: CSRF on every cookie-authenticated form, the API never authenticated by a
cookie, and production settings that pass `check --deploy` with secure cookies."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.urls import URLResolver, get_resolver

from tests.dashboard.conftest import signed_in

ROOT = Path(__file__).resolve().parent.parent
PRODUCTION_ENV = {
    "DJANGO_DEBUG": "False",
    "DJANGO_SECRET_KEY": "test-" + "k7Qz4mW9xR2pL8vN3cT6yB1hJ5dF0gS" * 2,
    "DJANGO_ALLOWED_HOSTS": "formtrack.example.com",
    "DJANGO_SECURE_SSL_REDIRECT": "True",
    "DJANGO_SECURE_HSTS_SECONDS": "31536000",
    "DJANGO_BEHIND_TLS_PROXY": "True",
    "SERVE_STATIC": "False",
    "EMAIL_URL": "smtp+tls://formtrack@smtp.example.com:587",
}


def url_patterns(patterns=None, prefix=""):
    """Every URL pattern as (route, view), with resolvers flattened."""
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(pattern, URLResolver):
            yield from url_patterns(pattern.url_patterns, prefix + str(pattern.pattern))
        else:
            yield prefix + str(pattern.pattern), pattern.callback


def concrete(route: str) -> str:
    """A URL for a route, any value in each parameter: CSRF is checked before the view runs."""
    route = re.sub(r"\(\?P<\w+>[^)]*\)", "x1-x", route)
    route = re.sub(r"<int:\w+>", "1", route)
    route = re.sub(r"<uuid:\w+>", "00000000-0000-0000-0000-000000000001", route)
    route = re.sub(r"<(?:str:|path:)?\w+>", "x", route)
    return "/" + route.strip("^$").replace("^", "").replace("$", "")


def test_only_the_token_authenticated_api_skips_csrf():
    exempt = {route for route, view in url_patterns() if getattr(view, "csrf_exempt", False)}
    assert exempt and all(route.startswith("api/") for route in exempt), exempt


@pytest.mark.django_db
def test_every_dashboard_and_account_post_without_a_csrf_token_is_refused(owner, acme):
    client = signed_in(owner, csrf=True)
    routes = [
        route
        for route, _ in url_patterns()
        if route.startswith(("dashboard/", "accounts/", "admin/"))
    ]
    assert len(routes) > 40
    for route in routes:
        response = client.post(concrete(route), {"name": "x"})
        assert response.status_code == 403, route
        assert b"CSRF" in response.content, route


@pytest.mark.django_db
def test_a_post_with_the_csrf_token_passes(owner, acme):
    client = signed_in(owner, csrf=True)
    page = client.get("/dashboard/tokens/")
    csrf = page.cookies["csrftoken"].value
    response = client.post(
        "/dashboard/organization/rename/", {"name": "Acme Ltd", "csrfmiddlewaretoken": csrf}
    )
    assert response.status_code in (200, 302)
    acme.refresh_from_db()
    assert acme.name == "Acme Ltd"


def test_every_post_form_in_our_templates_carries_the_csrf_token():
    forms = 0
    for template in (ROOT / "templates").rglob("*.html"):
        html = template.read_text()
        for form in re.findall(r"<form\b[^>]*>.*?</form>", html, flags=re.S | re.I):
            if re.search(r"method=[\"']post[\"']", form, flags=re.I):
                forms += 1
                assert "{% csrf_token %}" in form, f"{template.name}: {form[:120]}"
    assert forms >= 10


@pytest.mark.django_db
def test_the_api_never_accepts_the_dashboard_session_cookie(owner, acme):
    client = signed_in(owner)  # a logged-in browser: a forged cross-site request carries this
    response = client.post("/api/v1/sessions", {"exercise": "squat"})
    assert response.status_code == 401
    assert client.get("/api/v1/me").status_code == 401


def production(*arguments: str) -> subprocess.CompletedProcess:
    """Python run in a fresh process with production-like settings (as in .ci/run)."""
    env = {**os.environ, **PRODUCTION_ENV, "DJANGO_SETTINGS_MODULE": "config.settings"}
    return subprocess.run(  # noqa: S603 - our own interpreter, fixed arguments
        [sys.executable, *arguments],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.slow
def test_production_settings_pass_the_deploy_checks():
    result = production("manage.py", "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.slow
def test_production_cookies_are_secure():
    result = production(
        "-c",
        "import json; from django.conf import settings as s; "
        "print(json.dumps({n: getattr(s, n) for n in ["
        "'SESSION_COOKIE_SECURE', 'CSRF_COOKIE_SECURE', 'SESSION_COOKIE_HTTPONLY', "
        "'SESSION_COOKIE_SAMESITE', 'CSRF_COOKIE_SAMESITE', 'SECURE_SSL_REDIRECT', "
        "'SECURE_HSTS_SECONDS', 'DEBUG']}))",
    )
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout)
    assert values == {
        "SESSION_COOKIE_SECURE": True,
        "CSRF_COOKIE_SECURE": True,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "CSRF_COOKIE_SAMESITE": "Lax",
        "SECURE_SSL_REDIRECT": True,
        "SECURE_HSTS_SECONDS": 31536000,
        "DEBUG": False,
    }
