"""The shipped nginx config (deploy/nginx.conf) keeps API keys out of its access log: page URLs
carry them in the query string (?token=) and pages send their URL on as the Referer, so the log
has the path without its query, and the Referer's path only."""

import os
import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.processes import Processes, http
from tests.support.needs import needs_tool
from tests.support.servers import free_port, nginx_config, port_open, wait_until
from tracking.media_links import media_link

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = (ROOT / "deploy" / "nginx.conf").read_text()


def test_every_access_log_of_the_shipped_config_uses_the_format_without_query_strings():
    logs = re.findall(r"^\s*access_log\s+([^;]+);", SHIPPED, flags=re.M)
    shipped_logs = [entry for entry in logs if entry != "off"]  # static files are not logged
    assert shipped_logs == ["/var/log/nginx/access.log formtrack"] * 2  # both servers
    log_format = re.search(r"log_format formtrack (.*?);", SHIPPED, flags=re.S).group(1)
    variables = set(re.findall(r"\$\w+", log_format))
    with_query = {"$request", "$request_uri", "$args", "$query_string", "$http_referer"}
    # The path as mapped ($formtrack_path: /files/ links redacted), never the raw $uri.
    assert "$formtrack_path" in variables and "$uri" not in variables, variables
    assert not variables & with_query, variables
    assert not any(name.startswith("$arg_") for name in variables), variables


def logged_line(tmp_path, path: str, referer: str) -> str:
    """The access log line of one GET through the shipped config (no server behind: a 502)."""
    port = free_port()
    config = nginx_config(tmp_path / "nginx", port, [free_port()])
    processes = Processes(tmp_path, base_env=dict(os.environ))
    try:
        processes.start("nginx", ["nginx", "-c", str(config), "-p", str(config.parent)])
        wait_until(lambda: port_open(port), 20, "nginx")
        status, _, _ = http("GET", f"http://127.0.0.1:{port}{path}", headers={"Referer": referer})
        assert status == 502
        log = config.parent / "logs" / "access.log"
        return wait_until(lambda: log.exists() and log.read_text(), 10, "the access log line")
    finally:
        processes.close()


@pytest.mark.slow
@pytest.mark.django_db  # closing the processes looks for database sessions left behind
@needs_tool("nginx")
def test_a_tracking_page_request_is_logged_without_its_token(tmp_path):
    line = logged_line(
        tmp_path,
        "/pose_tracker/tracking?token=ft_live_SeCrEt123&exercise=squat",
        "https://gym.example.com/train?token=ft_pub_AlsoSeCrEt#top",
    )
    assert "SeCrEt" not in line and "token" not in line, line
    assert '"GET /pose_tracker/tracking HTTP/1.1" 502' in line, line
    assert '"https://gym.example.com/train"' in line, line


@pytest.mark.django_db
@needs_tool("nginx")
def test_a_media_link_is_logged_without_its_signature(tmp_path):
    link = urlsplit(media_link("uploads/org_1/3f2a/source.mp4"))
    signed = link.path.rsplit("/", 1)[1]
    line = logged_line(tmp_path, link.path, f"https://media.example.net{link.path}")
    assert signed not in line, line
    assert '"GET /files/[redacted] HTTP/1.1" 502' in line, line
    assert '"https://media.example.net/files/[redacted]"' in line, line
