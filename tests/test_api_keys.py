"""Publishable and secret keys (Stripe's model): a key in a public page opens the tracking and
upload pages and their sockets, uploads a file and reads back only that upload; it is refused by
every other REST endpoint. Secret keys do the REST API and still open pages (PoseTracker-style)."""

import re
from pathlib import Path

import pytest
from channels.testing import WebsocketCommunicator
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse

from accounts import services
from accounts.models import ApiToken, Membership
from config.asgi import application
from tests.dashboard.conftest import signed_in
from tests.factories import make_token
from tests.test_security import url_patterns
from tracking.models import Upload

PHOTO = Path(__file__).parent / "fixtures" / "images" / "messi5.jpg"
SAME_SITE = [(b"origin", b"http://testserver"), (b"host", b"testserver")]


def upload_photo(client, key) -> dict:
    response = client.post(
        "/api/v1/uploads?source=image",
        {"file": SimpleUploadedFile("photo.jpg", PHOTO.read_bytes())},
        HTTP_AUTHORIZATION=f"Bearer {key}",
    )
    assert response.status_code == 202, response.content
    return response.json()


def api_routes():
    """Every REST endpoint with its methods, as concrete URLs."""
    for route, view in url_patterns():
        if not route.startswith("api/v1/"):
            continue
        url = "/" + re.sub(r"<uuid:\w+>", "00000000-0000-0000-0000-000000000001", route)
        methods = [
            m.upper() for m in view.view_class.http_method_names if hasattr(view.view_class, m)
        ]
        for method in methods:
            if method not in ("OPTIONS", "HEAD"):
                yield method, url


@pytest.mark.django_db
def test_new_keys_carry_their_kind_in_a_visible_prefix(acme):
    secret, secret_raw = services.token_create(organization=acme, name="server")
    publishable, publishable_raw = services.token_create(
        organization=acme, name="site", kind=ApiToken.Kind.PUBLISHABLE
    )
    assert secret_raw.startswith("ft_live_") and secret.prefix == secret_raw[:16]
    assert publishable_raw.startswith("ft_pub_") and publishable.prefix == publishable_raw[:15]
    assert secret.is_secret and not publishable.is_secret


@pytest.mark.django_db
def test_a_publishable_key_is_refused_by_every_rest_endpoint_but_the_upload(
    client, acme_publishable_key
):
    tried = 0
    for method, url in api_routes():
        if (method, url) == ("POST", "/api/v1/uploads"):
            continue
        response = client.generic(method, url, HTTP_AUTHORIZATION=f"Bearer {acme_publishable_key}")
        assert response.status_code == 403, (method, url, response.content)
        assert response.json()["code"] == "secret_key_required", (method, url)
        tried += 1
    assert tried >= 10


@pytest.mark.django_db
def test_a_publishable_key_in_the_query_string_is_refused_too(client, acme_publishable_key):
    response = client.get(f"/api/v1/uploads?token={acme_publishable_key}")
    assert response.status_code == 403 and response.json()["code"] == "secret_key_required"


@pytest.mark.django_db
def test_a_publishable_key_opens_both_pages(client, acme_publishable_key):
    for page in ("tracking", "upload-tracking"):
        response = client.get(reverse(page), {"token": acme_publishable_key, "exercise": "squat"})
        assert response.status_code == 200, page


@pytest.mark.django_db
def test_a_publishable_key_keeps_to_its_allowed_origins(client, acme):
    key = make_token(acme, kind="publishable", allowed_origins=["https://acme.example"])
    query = {"token": key, "exercise": "squat"}
    allowed = client.get(reverse("tracking"), query, HTTP_REFERER="https://acme.example/train")
    assert allowed.status_code == 200
    foreign = client.get(reverse("tracking"), query, HTTP_REFERER="https://evil.example/")
    assert foreign.status_code == 403


@pytest.mark.django_db(transaction=True)
async def test_a_publishable_key_opens_the_live_socket(acme, acme_publishable_key):
    socket = WebsocketCommunicator(
        application,
        f"/ws/pose_tracker/tracking?token={acme_publishable_key}&exercise=squat",
        headers=SAME_SITE,
    )
    connected, _ = await socket.connect()
    assert connected
    started = await socket.receive_json_from(timeout=10)
    assert started["type"] == "session_started"
    await socket.disconnect()


@pytest.mark.django_db
def test_an_upload_made_with_a_publishable_key_is_read_back_only_through_its_own_ticket(
    client, acme_token, acme_publishable_key
):
    earlier = upload_photo(client, acme_token)  # another upload of the same organisation
    mine = upload_photo(client, acme_publishable_key)

    own = client.get(f"/api/v1/uploads/{mine['id']}?upload_ticket={mine['ticket']}")
    assert own.status_code == 200 and own.json()["id"] == mine["id"]
    events = client.get(f"/api/v1/uploads/{mine['id']}/events?upload_ticket={mine['ticket']}")
    assert events.status_code == 200

    other = client.get(f"/api/v1/uploads/{earlier['id']}?upload_ticket={mine['ticket']}")
    assert other.status_code == 401
    deleted = client.delete(f"/api/v1/uploads/{mine['id']}?upload_ticket={mine['ticket']}")
    assert deleted.status_code == 403
    forged = client.get(f"/api/v1/uploads/{mine['id']}?upload_ticket={mine['ticket']}x")
    assert forged.status_code == 401
    assert Upload.objects.count() == 2


@pytest.mark.django_db
def test_an_upload_ticket_stops_working_with_its_key(client, acme_publishable_key):
    mine = upload_photo(client, acme_publishable_key)
    services.token_revoke(token=ApiToken.objects.get(kind="publishable"))
    response = client.get(f"/api/v1/uploads/{mine['id']}?upload_ticket={mine['ticket']}")
    assert response.status_code == 401


@pytest.mark.django_db
def test_a_secret_key_still_opens_pages_and_the_dashboard_warns_about_it(
    client, acme, owner, acme_token
):
    response = client.get(reverse("tracking"), {"token": acme_token, "exercise": "squat"})
    assert response.status_code == 200  # PoseTracker-style: one token in the page URL
    key = ApiToken.objects.get(name="Acme app")
    assert key.used_in_page_at is not None

    page = signed_in(owner).get(reverse("tokens")).content.decode()
    assert "Used in a page" in page and "embed a publishable key instead" in page


@pytest.mark.django_db
def test_a_secret_key_sent_to_the_api_from_another_sites_page_is_flagged(client, acme_token):
    key = ApiToken.objects.get(name="Acme app")
    server = client.get("/api/v1/uploads", HTTP_AUTHORIZATION=f"Bearer {acme_token}")
    own_page = client.get(
        "/api/v1/uploads",
        HTTP_AUTHORIZATION=f"Bearer {acme_token}",
        HTTP_ORIGIN="http://testserver",
    )
    assert server.status_code == own_page.status_code == 200
    key.refresh_from_db()
    assert key.used_in_page_at is None  # no Origin, or our own pages
    browser = client.get(
        "/api/v1/uploads",
        HTTP_AUTHORIZATION=f"Bearer {acme_token}",
        HTTP_ORIGIN="https://gym.example",
    )
    assert browser.status_code == 200  # it still works: the warning is the dashboard's
    key.refresh_from_db()
    assert key.used_in_page_at is not None


@pytest.mark.django_db
def test_a_publishable_key_in_a_page_raises_no_warning(client, owner, acme_publishable_key):
    client.get(reverse("tracking"), {"token": acme_publishable_key, "exercise": "squat"})
    assert ApiToken.objects.get(kind="publishable").used_in_page_at is None
    assert "Used in a page" not in signed_in(owner).get(reverse("tokens")).content.decode()


@pytest.mark.django_db
def test_the_dashboard_creates_publishable_keys_unless_asked_for_a_secret_one(owner, acme):
    dashboard = signed_in(owner)
    dashboard.post(reverse("tokens"), {"name": "Website", "kind": "publishable"})
    dashboard.post(reverse("tokens"), {"name": "Server", "kind": "secret"})
    kinds = dict(ApiToken.objects.for_org(acme).values_list("name", "kind"))
    assert kinds == {"Website": "publishable", "Server": "secret"}
    form = dashboard.get(reverse("tokens")).content.decode()
    assert re.search(r'value="publishable"[^>]* checked', form)


@pytest.mark.django_db
def test_a_members_playground_key_cannot_touch_the_owners_uploads(client, acme, member, acme_token):
    owners_upload = upload_photo(client, acme_token)
    dashboard = signed_in(member)
    dashboard.post(reverse("playground-token"))
    key = ApiToken.objects.get(created_by=member)
    assert key.kind == "publishable" and key.expires_at is not None

    # The key lives in the member's dashboard session; even with it, the API refuses.
    raw = dashboard.get(reverse("playground")).context["playground_secret"]
    assert raw.startswith("ft_pub_")
    for method in ("get", "delete"):
        response = getattr(client, method)(
            f"/api/v1/uploads/{owners_upload['id']}", HTTP_AUTHORIZATION=f"Bearer {raw}"
        )
        assert response.status_code == 403
    assert Upload.objects.filter(pk=owners_upload["id"]).exists()


@pytest.mark.django_db
def test_a_members_playground_key_is_revoked_when_they_leave(acme, owner, member):
    signed_in(member).post(reverse("playground-token"))
    services.membership_remove(
        membership=Membership.objects.get(user=member),
        actor=Membership.objects.get(user=owner),
    )
    assert ApiToken.objects.get(created_by=member).is_revoked


@pytest.mark.django_db
def test_seed_demo_prints_a_publishable_key_beside_the_secret_one(client, capsys):
    call_command("seed_demo")
    out = capsys.readouterr().out
    secret = re.search(r"^DEMO_TOKEN=(ft_live_\S+)$", out, re.M).group(1)
    publishable = re.search(r"^DEMO_PUBLISHABLE_KEY=(ft_pub_\S+)$", out, re.M).group(1)
    assert client.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {secret}").status_code == 200
    assert client.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {publishable}").status_code == 403
    page = client.get(reverse("tracking"), {"token": publishable, "exercise": "squat"})
    assert page.status_code == 200


@pytest.mark.django_db
def test_managers_see_and_roll_the_webhook_signing_secret_and_members_do_not(acme, owner, member):
    old = acme.webhook_secret
    dashboard = signed_in(owner)
    assert old in dashboard.get(reverse("tokens")).content.decode()
    response = dashboard.post(reverse("webhook-secret-roll"))
    assert response.status_code == 302
    acme.refresh_from_db()
    assert acme.webhook_secret.startswith("whsec_") and acme.webhook_secret != old
    assert signed_in(member).post(reverse("webhook-secret-roll")).status_code == 403
    assert signed_in(member).get(reverse("tokens")).status_code == 403


@pytest.mark.django_db
def test_only_a_secret_key_may_have_an_upload_call_back(
    client, settings, acme_token, acme_publishable_key
):
    settings.CALLBACK_ALLOW_PRIVATE_HOSTS = True  # the address is not what is refused here
    hook = "http://127.0.0.1:9/hook"

    def upload(key):
        return client.post(
            "/api/v1/uploads?source=image",
            {"file": SimpleUploadedFile("photo.jpg", PHOTO.read_bytes()), "callback_url": hook},
            HTTP_AUTHORIZATION=f"Bearer {key}",
        )

    refused = upload(acme_publishable_key)
    assert refused.status_code == 403, refused.content
    assert refused.json()["code"] == "secret_key_required"
    assert "callback_url" in refused.json()["message"]
    assert not Upload.objects.exists()
    accepted = upload(acme_token)
    assert accepted.status_code == 202, accepted.content
    assert Upload.objects.get().callback_url == hook
