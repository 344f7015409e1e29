"""allauth's pages in our layout, sign-up creating an organisation, and the SVG charts."""

import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from allauth.account.models import EmailAddress, EmailConfirmationHMAC
from django.contrib.auth import get_user_model
from django.contrib.staticfiles import finders
from django.core import mail

from accounts.models import Membership
from tracking import charts

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "path",
    [
        "/accounts/login/",
        "/accounts/signup/",
        "/accounts/password/reset/",
        "/accounts/password/reset/done/",
        "/accounts/confirm-email/",
    ],
)
def test_allauth_pages_use_our_layout(client, path):
    response = client.get(path)
    assert response.status_code == 200
    html = response.content.decode()
    assert "formtrack/base.css" in html and 'class="topbar"' in html
    assert 'class="auth-page"' in html and "· FormTrack</title>" in html


def test_logout_page_uses_our_layout(owner_client):
    html = owner_client.get("/accounts/logout/").content.decode()
    assert 'class="auth-page"' in html and "Log out" in html


SIGN_IN_OR_OUT = re.compile(r"sign(?:ed)?[ -]?(?:in|out)\b", re.IGNORECASE)


@pytest.mark.parametrize(
    ("path", "heading"),
    [("/accounts/login/", "Log in"), ("/accounts/signup/", "Sign up"), ("/", "FormTrack")],
)
def test_signed_out_pages_say_log_in(client, path, heading):
    html = client.get(path).content.decode()
    assert f"<h1>{heading}</h1>" in html and ">Log in<" in html
    assert not SIGN_IN_OR_OUT.search(html), SIGN_IN_OR_OUT.search(html)


def test_logging_in_and_out_say_log_in_and_log_out(client, owner, acme):
    response = client.post(
        "/accounts/login/",
        {"login": "olivia@acme.test", "password": "correct horse battery staple"},
        follow=True,
    )
    html = response.content.decode()
    assert "Logged in as olivia@acme.test" in html and ">Log out</button>" in html
    assert not SIGN_IN_OR_OUT.search(html)
    logout = client.get("/accounts/logout/").content.decode()
    assert "<h1>Log out</h1>" in logout and not SIGN_IN_OR_OUT.search(logout)
    html = client.post("/accounts/logout/", follow=True).content.decode()
    assert "You have logged out." in html


@pytest.mark.parametrize("path", ["/", "/accounts/login/", "/dashboard/", "/api/docs/events/"])
def test_every_page_names_the_favicon(client, owner_client, path):
    html = (owner_client if path == "/dashboard/" else client).get(path).content.decode()
    assert '<link rel="icon" href="/static/formtrack/favicon.svg" type="image/svg+xml">' in html
    icon = finders.find("formtrack/favicon.svg")
    assert icon and Path(icon).read_text().startswith("<svg")


def test_login_errors_are_announced_and_linked(client, owner):
    response = client.post("/accounts/login/", {"login": "olivia@acme.test", "password": "wrong"})
    assert response.status_code == 200
    html = response.content.decode()
    assert 'class="errorlist nonfield" role="alert"' in html


def test_signup_errors_are_linked_to_their_fields(client):
    response = client.post(
        "/accounts/signup/", {"email": "bad", "password1": "x", "password2": "y"}
    )
    html = response.content.decode()
    assert 'id="id_email_error"' in html and 'aria-invalid="true"' in html
    assert re.search(r'aria-describedby="[^"]*id_email_error', html)


def test_signup_creates_an_organisation_and_sends_a_confirmation(client):
    response = client.post(
        "/accounts/signup/",
        {
            "email": "newcomer@example.com",
            "password1": "v3ry-Secret-pass",
            "password2": "v3ry-Secret-pass",
        },
    )
    assert response.status_code == 302
    user = get_user_model().objects.get(email="newcomer@example.com")
    membership = Membership.objects.get(user=user)
    assert membership.role == "owner" and membership.organization.name == "newcomer's team"
    assert any("newcomer@example.com" in m.to for m in mail.outbox)
    html = client.get("/dashboard/").content.decode()
    assert "<h1>newcomer&#x27;s team</h1>" in html
    # The confirmation link renders in our layout and confirms the address.
    key = EmailConfirmationHMAC(EmailAddress.objects.get(user=user)).key
    page = client.get(f"/accounts/confirm-email/{key}/")
    assert page.status_code == 200 and 'class="auth-page"' in page.content.decode()
    client.post(f"/accounts/confirm-email/{key}/")
    assert EmailAddress.objects.get(user=user).verified


def test_password_reset_sends_a_link(client, owner):
    client.post("/accounts/password/reset/", {"email": "olivia@acme.test"})
    assert any("password" in m.body.lower() for m in mail.outbox)


SITE_URL = "https://formtrack.example.com"


@pytest.fixture
def any_host_allowed(settings):
    """A server that lets any Host header through (DJANGO_ALLOWED_HOSTS=*, refused in
    production by config/checks.py): its e-mails must still link to SITE_URL."""
    settings.ALLOWED_HOSTS = ["*"]
    settings.SITE_URL = SITE_URL


def mail_from_another_host(client, path: str, data: dict):
    client.post(path, data, HTTP_HOST="evil.example")
    (message,) = mail.outbox
    links = re.findall(r"https?://\S+", message.body)
    assert links, message.body
    assert all(link.startswith(SITE_URL + "/") for link in links), links
    assert "evil.example" not in message.subject + message.body, message.subject + message.body
    return links


def test_a_password_reset_asked_on_another_host_links_to_the_site(client, owner, any_host_allowed):
    (link,) = mail_from_another_host(
        client, "/accounts/password/reset/", {"email": "olivia@acme.test"}
    )
    assert link.startswith(SITE_URL + "/accounts/password/reset/key/")
    # The key is the real one: the link opens the form that sets a new password.
    opened = client.get(urlsplit(link).path)
    assert re.fullmatch(r"/accounts/password/reset/key/\w+-set-password/", opened.url)


def test_a_reset_for_an_unknown_address_asked_on_another_host_links_to_the_site(
    client, any_host_allowed
):
    (link,) = mail_from_another_host(
        client, "/accounts/password/reset/", {"email": "nobody@example.com"}
    )
    assert link == SITE_URL + "/accounts/signup/"


def test_a_confirmation_asked_on_another_host_links_to_the_site(client, any_host_allowed):
    (link,) = mail_from_another_host(
        client,
        "/accounts/signup/",
        {
            "email": "newcomer@example.com",
            "password1": "v3ry-Secret-pass",
            "password2": "v3ry-Secret-pass",
        },
    )
    assert link.startswith(SITE_URL + "/accounts/confirm-email/")
    client.post(urlsplit(link).path)
    assert EmailAddress.objects.get(email="newcomer@example.com").verified


def test_usage_chart_is_accessible_and_escaped():
    points = [charts.DayPoint("2026-03-01", 12, 5.5), charts.DayPoint("2026-03-02", 0, 0)]
    svg = str(charts.usage_chart_svg(points))
    assert svg.startswith("<svg") and 'role="img"' in svg
    assert 'aria-label="Calls and minutes tracked per day"' in svg
    assert "<title id=" in svg and "<desc id=" in svg
    assert "12 calls and 5.5 minutes" in svg and "Busiest day 2026-03-01" in svg
    assert svg.count('class="bar"') == 2
    assert "<title>2026-03-01: 12 calls, 5.5 min</title>" in svg


def test_empty_usage_chart_still_draws():
    svg = str(charts.usage_chart_svg([]))
    assert "No days in range." in svg


def test_quota_bar_changes_colour_as_it_fills():
    assert "quota-ok" in charts.quota_bar_svg(used=10, limit=100)
    assert "quota-warn" in charts.quota_bar_svg(used=80, limit=100)
    full = str(charts.quota_bar_svg(used=120, limit=100))
    assert "quota-full" in full and "120 of 100 calls used this month (100%)" in full
    assert "0 calls left" in full


def test_score_chart_reads_form_score_or_score_and_escapes():
    svg = str(
        charts.score_chart_svg(
            [
                {"index": 1, "formScore": 90, "grade": "A"},
                {"index": 2, "score": 40, "grade": "<F>"},
                {"index": 3, "score": "n/a"},
                "junk",
            ]
        )
    )
    assert svg.count('class="score-bar"') == 2
    assert "&lt;F&gt;" in svg and "<F>" not in svg
    assert 'aria-label="Form score per repetition"' in svg
    assert "2 repetitions, average score 65" in svg
