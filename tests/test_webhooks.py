"""Upload callbacks: signed the Standard Webhooks way, sent only to the address that was checked
(never to a redirect), retried with backoff by a task of their own, never holding up the analysis.

Receivers are real HTTP servers on 127.0.0.1, so CALLBACK_ALLOW_PRIVATE_HOSTS is on unless a test
is about refusing private addresses. Name resolution, the outside world, is faked where a test
needs a name to change its answer.
"""

import datetime
import hashlib
import hmac
import http.server
import io
import socket
import ssl
import threading
import time
from pathlib import Path

import pytest
from celery.exceptions import Retry
from celery.signals import task_postrun
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.utils import timezone
from standardwebhooks import Webhook, WebhookVerificationError

from tests.support.servers import LoopbackHTTPServer, wait_until
from tracking import outbound, tasks, uploads, webhooks
from tracking.models import Upload

PERSON_PHOTO = Path(__file__).parent / "fixtures" / "images" / "messi5.jpg"
HOOK_HOST = "hooks.example.test"

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _deliveries_in_this_process(settings):
    # The in-process runner, even where CI has a Celery worker: deliveries must see this test's
    # settings and faked name resolution.
    settings.BACKGROUND_RUNNER = "thread"
    settings.CALLBACK_ALLOW_PRIVATE_HOSTS = True


class Receiver(LoopbackHTTPServer):
    """An HTTP server on 127.0.0.1 answering each POST with the next of `answers`: a status, or
    (status, headers). With `hang` set, it holds every request until that event is set."""

    def __init__(self, *answers, hang: threading.Event | None = None, tls=None):
        self.answers = list(answers) or [204]
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append(
                    {
                        "path": self.path,
                        "headers": self.headers,
                        "body": body,
                        "at": time.monotonic(),
                    }
                )
                if receiver.hang is not None:
                    receiver.hang.wait(60)
                answer = receiver.answers[min(len(receiver.requests), len(receiver.answers)) - 1]
                status, headers = answer if isinstance(answer, tuple) else (answer, {})
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        super().__init__(Handler, hang=hang)
        if tls is not None:
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)

    def url(self, host="127.0.0.1", path="/hook") -> str:
        return f"http://{host}:{self.port}{path}"


class Runs:
    """When each run of a task ended, by its first argument (Celery's task_postrun signal).

    Tests read the database only once a run is over: the in-memory SQLite test database fails a
    write that meets a read from another thread, where a real one would wait.
    """

    def __init__(self, task):
        self.task = task
        self.ended: dict[str, list[float]] = {}
        self.changed = threading.Condition()

    def __call__(self, sender=None, args=None, **_):
        with self.changed:
            self.ended.setdefault(str(args[0]), []).append(time.time())
            self.changed.notify_all()

    def wait(self, key, more_than: int, timeout: float, what: str) -> list[float]:
        with self.changed:
            if not self.changed.wait_for(
                lambda: len(self.ended.get(str(key), [])) > more_than, timeout
            ):
                raise AssertionError(f"{what} did not happen in {timeout} s")
            return self.ended[str(key)]


@pytest.fixture(autouse=True)
def runs():
    deliveries, analyses = Runs(tasks.deliver_upload_callback), Runs(tasks.analyze_upload)
    for tracker in (deliveries, analyses):
        task_postrun.connect(tracker, sender=tracker.task, weak=False)
    yield {"delivery": deliveries, "analysis": analyses}
    for tracker in (deliveries, analyses):
        task_postrun.disconnect(tracker, sender=tracker.task)


def settled(runs, upload_id, timeout=30.0) -> Upload:
    """The upload once its callback delivery is over (delivered, refused or given up)."""
    deadline, seen = time.monotonic() + timeout, 0
    while True:
        remaining = deadline - time.monotonic()
        seen = len(runs["delivery"].wait(upload_id, seen, remaining, "the callback delivery"))
        upload = Upload.objects.get(pk=upload_id)
        if upload.callback_attempts and upload.callback_next_attempt_at is None:
            return upload


def failed_upload(organization, callback_url) -> Upload:
    """An upload whose analysis fails for good: uploads.upload_fail queues its callback."""
    upload = Upload.objects.create(
        organization=organization,
        kind="image",
        query="",
        file="uploads/test/photo.jpg",
        size_bytes=PERSON_PHOTO.stat().st_size,
        callback_url=callback_url,
    )
    uploads.upload_fail(
        upload_id=upload.pk,
        attempt=uploads.upload_claim(upload_id=upload.pk),
        code="analysis_failed",
        message="The analysis failed unexpectedly.",
    )
    return upload


@pytest.fixture
def fake_dns(monkeypatch):
    """Answers for HOOK_HOST, one list per lookup (the last one repeats); other names resolve
    as usual. Records each lookup of HOOK_HOST."""
    real = socket.getaddrinfo
    state = {"answers": [["127.0.0.1"]], "lookups": 0}

    def getaddrinfo(host, port, *args, **kwargs):
        if host != HOOK_HOST:
            return real(host, port, *args, **kwargs)
        state["lookups"] += 1
        addresses = state["answers"][min(state["lookups"], len(state["answers"])) - 1]
        return [
            (socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (address, port))
            for address in addresses
        ]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return state


def test_a_delivery_is_signed_the_standard_webhooks_way_and_the_old_way(acme, runs):
    with Receiver(204) as receiver:
        upload = settled(runs, failed_upload(acme, receiver.url()).pk)
    (request,) = receiver.requests
    headers = dict(request["headers"].items())
    payload = Webhook(acme.webhook_secret).verify(request["body"], headers)
    assert payload["uploadId"] == str(upload.pk) and payload["status"] == "failed"
    assert payload["error"]["code"] == "analysis_failed"
    assert headers["webhook-id"] == f"msg_{upload.pk.hex}"
    assert abs(int(headers["webhook-timestamp"]) - time.time()) < 60
    # Receivers built against the first callbacks keep working.
    legacy = hmac.new(acme.webhook_secret.encode(), request["body"], hashlib.sha256).hexdigest()
    assert headers["X-FormTrack-Signature"] == f"sha256={legacy}"
    assert upload.callback_status == "delivered: HTTP 204"
    assert upload.callback_attempts == 1 and upload.callback_last_attempt_at is not None


def test_a_signature_made_with_another_secret_does_not_verify(acme, runs, globex):
    with Receiver(204) as receiver:
        settled(runs, failed_upload(acme, receiver.url()).pk)
    (request,) = receiver.requests
    with pytest.raises(WebhookVerificationError, match="No matching signature"):
        Webhook(globex.webhook_secret).verify(request["body"], dict(request["headers"].items()))


def test_a_redirect_to_loopback_is_not_followed_and_the_attempt_is_recorded_failed(acme, runs):
    with Receiver(204) as target, Receiver() as redirecting:
        redirecting.answers = [(302, {"Location": target.url(path="/internal/admin")})]
        upload = settled(runs, failed_upload(acme, redirecting.url()).pk)
    assert len(redirecting.requests) == 1
    assert target.requests == []
    assert upload.callback_status == (
        "failed after 1 attempt(s): HTTP 302: redirects are not followed"
    )


def due_upload(organization, callback_url) -> Upload:
    """A failed upload whose callback is due, its task not queued: the test runs it."""
    return Upload.objects.create(
        organization=organization,
        kind="image",
        query="",
        file="uploads/test/photo.jpg",
        size_bytes=PERSON_PHOTO.stat().st_size,
        status=Upload.Status.FAILED,
        error_code="analysis_failed",
        error_message="The analysis failed unexpectedly.",
        callback_url=callback_url,
        callback_next_attempt_at=timezone.now(),
    )


def run_as_a_worker(row_id, task=tasks.deliver_upload_callback):
    """Run a delivery task as a Celery worker does (not eagerly): a retry raises Retry."""
    task.push_request(
        id=f"delivery-{row_id}",
        args=[str(row_id)],
        kwargs={},
        is_eager=False,
        called_directly=False,
        retries=0,
    )
    try:
        return task.run(str(row_id))
    finally:
        task.pop_request()


def test_a_server_error_is_retried_by_the_task_on_the_standard_webhooks_schedule(acme, settings):
    with Receiver(500) as receiver:
        upload = due_upload(acme, receiver.url())
        countdowns = []
        for attempt in range(1, 9):
            if attempt < 8:
                with pytest.raises(Retry) as retry:
                    run_as_a_worker(upload.pk)
                countdowns.append(retry.value.when)
            else:
                assert run_as_a_worker(upload.pk) is None
            upload.refresh_from_db()
            assert upload.callback_attempts == attempt
            if attempt < 8:
                assert upload.callback_status == "retrying: HTTP 500"
                due_in = upload.callback_next_attempt_at - upload.callback_last_attempt_at
                assert due_in.total_seconds() == pytest.approx(countdowns[-1], abs=2)
                # A copy of the task that comes early (a redelivery) sends nothing.
                assert run_as_a_worker(upload.pk) is None
                assert len(receiver.requests) == attempt
                # Time passes: the retry is due.
                Upload.objects.filter(pk=upload.pk).update(callback_next_attempt_at=timezone.now())
    assert (
        countdowns
        == settings.CALLBACK_RETRY_SCHEDULE_S
        == [5, 300, 1800, 7200, 18000, 36000, 36000]
    )
    assert upload.callback_status == "failed after 8 attempt(s): HTTP 500"
    assert upload.callback_next_attempt_at is None
    assert len(receiver.requests) == 8
    # The same event every time: receivers can drop a retry they already handled.
    assert {r["headers"]["webhook-id"] for r in receiver.requests} == {f"msg_{upload.pk.hex}"}


def test_requeue_uploads_sends_a_callback_whose_task_was_lost(acme, runs):
    with Receiver(204) as receiver:
        lost = due_upload(acme, receiver.url())  # due an hour ago, its task never ran
        Upload.objects.filter(pk=lost.pk).update(
            callback_next_attempt_at=timezone.now() - datetime.timedelta(hours=1)
        )
        due_upload(acme, receiver.url())  # just due: its task is surely still queued
        out = io.StringIO()
        call_command("requeue_uploads", stdout=out)
        upload = settled(runs, lost.pk)
    assert "1 callback delivery(ies) queued again" in out.getvalue()
    assert upload.callback_status == "delivered: HTTP 204"
    assert len(receiver.requests) == 1


@pytest.mark.parametrize(
    ("status", "retried"), [(404, False), (410, False), (408, True), (429, True), (503, True)]
)
def test_only_errors_that_may_pass_are_retried(acme, status, retried):
    with Receiver(status) as receiver:
        upload = due_upload(acme, receiver.url())
        if retried:
            with pytest.raises(Retry):
                run_as_a_worker(upload.pk)
        else:
            assert run_as_a_worker(upload.pk) is None
    upload.refresh_from_db()
    assert len(receiver.requests) == 1
    if retried:
        assert upload.callback_status == f"retrying: HTTP {status}"
        assert upload.callback_next_attempt_at is not None
    else:
        assert upload.callback_status == f"failed after 1 attempt(s): HTTP {status}"
        assert upload.callback_next_attempt_at is None


class Trickler:
    """A receiver that answers one byte every 0.2 s, for as long as the client listens."""

    def __init__(self):
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}/hook"
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self):
        connection, _ = self.listener.accept()
        with connection:
            connection.recv(65536)
            connection.sendall(b"HTTP/1.1 200 OK\r\nX-Slow: ")
            while not self.stop.wait(0.2):
                try:
                    connection.sendall(b"a")
                except OSError:  # the client hung up
                    return

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.listener.close()


def test_a_receiver_trickling_its_answer_is_cut_off_at_the_attempt_deadline(acme, settings):
    settings.CALLBACK_TIMEOUT_S = 1  # each byte comes well within it: only the deadline ends this
    with Trickler() as trickler:
        upload = due_upload(acme, trickler.url)
        started = time.monotonic()
        with pytest.raises(Retry):
            run_as_a_worker(upload.pk)
        elapsed = time.monotonic() - started
    upload.refresh_from_db()
    assert upload.callback_status == "retrying: timed out after 1 s"
    assert elapsed < 3


def test_the_in_process_runner_waits_each_countdown_before_retrying(acme, runs, settings):
    settings.CALLBACK_RETRY_SCHEDULE_S = [0.5, 1.0]
    with Receiver(500, 503, 204) as receiver:
        upload = settled(runs, failed_upload(acme, receiver.url()).pk)
    first, second, third = (r["at"] for r in receiver.requests)
    assert second - first >= 0.5 and third - second >= 1.0
    assert upload.callback_status == "delivered: HTTP 204" and upload.callback_attempts == 3


def post_photo(client, token, callback_url):
    return client.post(
        "/api/v1/uploads",
        {
            "file": SimpleUploadedFile("photo.jpg", PERSON_PHOTO.read_bytes()),
            "source": "image",
            "exercise": "squat",
            "callback_url": callback_url,
        },
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )


def test_the_callback_host_is_checked_when_the_upload_is_made_and_again_at_send_time(
    client, acme_token, settings, fake_dns, runs
):
    settings.CALLBACK_ALLOW_PRIVATE_HOSTS = False
    # Loopback: refused at once. Then public when an upload is accepted, and rebound to
    # loopback before its callback is sent.
    fake_dns["answers"] = [["127.0.0.1"], ["93.184.216.34"], ["127.0.0.1"]]
    with Receiver(204) as receiver:
        refused = post_photo(client, acme_token, receiver.url(host=HOOK_HOST))
        assert refused.status_code == 400
        assert refused.json()["code"] == "invalid_callback_url"
        assert "127.0.0.1" not in refused.json()["message"]  # no map of the network
        response = post_photo(client, acme_token, receiver.url(host=HOOK_HOST))
        assert response.status_code == 202, response.content
        upload = settled(runs, response.json()["id"], timeout=120)
    assert receiver.requests == []
    assert upload.callback_status == ("refused: 127.0.0.1 is not a public address")
    assert upload.callback_attempts == 1  # refused for good: never retried


@pytest.mark.parametrize("private_hosts", [False, True])
def test_a_callback_host_no_resolver_can_encode_is_refused_with_a_400(
    client, acme_token, settings, private_hosts
):
    settings.CALLBACK_ALLOW_PRIVATE_HOSTS = private_hosts
    response = post_photo(client, acme_token, "https://\u200b.example.com/hook")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_callback_url"
    assert not Upload.objects.exists()


def test_each_attempt_resolves_once_and_connects_to_the_address_it_checked(acme, runs, fake_dns):
    # Any second lookup would get 127.0.0.2, where nothing listens.
    fake_dns["answers"] = [["127.0.0.1"], ["127.0.0.2"]]
    with Receiver(204) as receiver:
        upload = settled(runs, failed_upload(acme, receiver.url(host=HOOK_HOST) + "?source=ft").pk)
    assert upload.callback_status == "delivered: HTTP 204"
    assert fake_dns["lookups"] == 1
    (request,) = receiver.requests
    assert request["headers"]["Host"] == f"{HOOK_HOST}:{receiver.port}"
    assert request["path"] == "/hook?source=ft"


# Addresses a callback host may resolve to that lead inside a network: loopback, private,
# link-local, shared, unspecified, multicast, site-local, and the IPv6 forms that embed such an
# IPv4 address (IPv4-compatible, -mapped, SIIT, NAT64, 6to4, Teredo).
NOT_PUBLIC = [
    "127.0.0.1",
    "10.0.0.1",
    "169.254.169.254",
    "100.64.0.1",
    "0.0.0.0",  # noqa: S104 - an address to refuse, not one to bind
    "192.0.0.8",
    "224.0.0.1",
    "::",
    "::1",
    "fe80::1",
    "fc00::1",
    "::ffff:127.0.0.1",
    "::ffff:7f00:1",
    "::7f00:1",
    "::a9fe:a9fe",
    "::ffff:0:7f00:1",
    "64:ff9b::a00:1",
    "64:ff9b::a9fe:a9fe",
    "64:ff9b:1::808:808",
    "2002:7f00:1::1",
    "2002:a00:1::1",
    "2001:0:4136:e378:8000:63bf:80ff:fffe",  # Teredo, client 127.0.0.1
    "fec0::1",
    "ff02::1",
    "ff0e::1",
]
PUBLIC = [
    "93.184.216.34",
    "2606:2800:220:1:248:1893:25c8:1946",
    "::ffff:93.184.216.34",
    "64:ff9b::5db8:d822",  # NAT64 of 93.184.216.34
    "2002:5db8:d822::1",  # 6to4 of 93.184.216.34
]


@pytest.mark.parametrize("address", NOT_PUBLIC)
def test_a_callback_host_resolving_inside_a_network_is_refused(settings, fake_dns, address):
    settings.CALLBACK_ALLOW_PRIVATE_HOSTS = False
    fake_dns["answers"] = [["93.184.216.34", address]]  # one bad address is enough
    with pytest.raises(outbound.AddressRefused) as refused:
        webhooks.callback_url_check(f"http://{HOOK_HOST}/hook")
    assert refused.value.address == address


@pytest.mark.parametrize("address", PUBLIC)
def test_a_callback_host_resolving_to_public_addresses_is_accepted(settings, fake_dns, address):
    settings.CALLBACK_ALLOW_PRIVATE_HOSTS = False
    fake_dns["answers"] = [[address]]
    assert webhooks.callback_addresses(f"https://{HOOK_HOST}/hook") == [address]


def self_signed(tmp_path: Path, name: str) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / f"{name}.pem", tmp_path / f"{name}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@pytest.mark.parametrize("certificate_for", [HOOK_HOST, "other.example.test"])
def test_https_checks_the_certificate_against_the_host_name_at_the_pinned_address(
    acme, fake_dns, tmp_path, monkeypatch, certificate_for
):
    cert, key = self_signed(tmp_path, certificate_for)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # trust the test's certificate, and only it
    server_names = []
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(cert, key)
    tls.sni_callback = lambda sock, name, context: server_names.append(name)
    with Receiver(204, tls=tls) as receiver:
        upload = due_upload(acme, f"https://{HOOK_HOST}:{receiver.port}/hook")
        if certificate_for == HOOK_HOST:
            assert run_as_a_worker(upload.pk) is None
        else:
            with pytest.raises(Retry):
                run_as_a_worker(upload.pk)
    upload.refresh_from_db()
    assert server_names == [HOOK_HOST]  # SNI names the host, though we connected to 127.0.0.1
    if certificate_for == HOOK_HOST:
        assert upload.callback_status == "delivered: HTTP 204"
    else:
        assert upload.callback_status.startswith("retrying: SSLCertVerificationError")
        assert "Hostname mismatch" in upload.callback_status
        assert receiver.requests == []


def test_the_analysis_does_not_wait_for_a_hanging_receiver(client, acme_token, runs):
    with Receiver(204, hang=threading.Event()) as receiver:
        upload_id = post_photo(client, acme_token, receiver.url()).json()["id"]
        (ended,) = runs["analysis"].wait(upload_id, 0, 120, "the analysis")
        wait_until(lambda: receiver.requests, 30, "the callback", interval=0.05)
        upload = Upload.objects.get(pk=upload_id)
        assert upload.status == "done"
        # The receiver still holds the callback: the task ended without waiting for it.
        assert not receiver.hang.is_set()
        assert ended - upload.finished_at.timestamp() < 2
    upload = settled(runs, upload_id)
    assert upload.callback_status == "delivered: HTTP 204"
