"""The server the live benchmarks talk to: Daphne processes (one per core by default, as deployed
behind a proxy) on a fresh SQLite database with the demo organisation and its keys
(`manage.py seed_demo`). bench/all.py, bench/first_pose.py and bench/soak.py start it.
"""

import contextlib
import os
import re
import secrets
import sys
from pathlib import Path

from tests.support.servers import Processes, free_port, manage, standalone_env


def production_settings() -> dict[str, str]:
    """Settings as production runs (DJANGO_DEBUG=False, which the server refuses to start with
    development secrets): no debug bookkeeping, such as Django's log of every SQL query."""
    return {
        "DJANGO_DEBUG": "False",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "EMAIL_URL": "smtp+tls://bench@127.0.0.1:587",  # never used
    }


class Server:
    """Daphne processes on free loopback ports, a fresh SQLite database in `workdir` with a demo
    token (`token`, secret) and publishable key (`publishable_key`); their logs are in `workdir`.
    `env` overrides settings of the servers."""

    def __init__(self, workdir: Path, processes: int = len(os.sched_getaffinity(0)), **env: str):
        self.ports = [free_port() for _ in range(processes)]
        # Load, not abuse: the benchmarks open many sessions from one token and one address.
        limits = {
            "RATE_LIMIT_TOKEN_WEBSOCKET_PER_MIN": "100000",
            "RATE_LIMIT_TOKEN_PAGE_PER_MIN": "100000",
            "RATE_LIMIT_IP_PER_MIN": "100000",
        }
        self.env = standalone_env(workdir, **(limits | env))
        manage(self.env, "migrate", "--noinput")
        seeded = manage(self.env, "seed_demo")
        self.token = re.search(r"^DEMO_TOKEN=(\S+)$", seeded, re.M).group(1)
        self.publishable_key = re.search(r"^DEMO_PUBLISHABLE_KEY=(\S+)$", seeded, re.M).group(1)
        self.stack = Processes(workdir, base_env=self.env)
        # No access log: writing a line per request would be part of what is measured.
        self.processes = [
            self.stack.daphne(f"daphne-{port}", port, options=("-v", "0")) for port in self.ports
        ]

    @property
    def pids(self) -> list[int]:
        return [process.pid for process in self.processes]

    def stop(self):
        # The ends of the servers' logs go to stderr, out of the benchmark's report.
        with contextlib.redirect_stdout(sys.stderr):
            self.stack.close()
