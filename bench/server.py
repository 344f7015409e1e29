"""The server the live benchmarks talk to: Daphne processes (one per core by default, as deployed
behind a proxy) on a fresh SQLite database with the demo organisation and its keys
(`manage.py seed_demo`). bench/all.py, bench/first_pose.py and bench/soak.py start it.
"""

import contextlib
import os
import re
import sys
from pathlib import Path

from tests.support.servers import (
    Processes,
    free_port,
    manage,
    nginx_config,
    port_open,
    standalone_env,
    wait_until,
)


class Server:
    """Daphne processes on free loopback ports, a fresh SQLite database in `workdir` with a demo
    token (`token`, secret) and publishable key (`publishable_key`); their logs are in `workdir`.
    `env` overrides settings of the servers. With `proxy`, as deployed: `collectstatic` and the
    shipped nginx config in front (deploy/nginx.conf: hashed static files, their gzip copies), on
    `url`'s port."""

    def __init__(
        self,
        workdir: Path,
        processes: int = len(os.sched_getaffinity(0)),
        *,
        proxy: bool = False,
        **env: str,
    ):
        self.ports = [free_port() for _ in range(processes)]
        if proxy:
            env = env | {"SERVE_STATIC": "False", "STATIC_ROOT": str(workdir / "staticfiles")}
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
        if proxy:
            manage(self.env, "collectstatic", "--noinput", "-v", "0")
        self.processes = [
            self.stack.daphne(f"daphne-{port}", port, options=("-v", "0")) for port in self.ports
        ]
        self.port = self.ports[0]
        if proxy:
            self.port = free_port()
            config = nginx_config(
                workdir / "nginx", self.port, self.ports, static_root=workdir / "staticfiles"
            )
            self.stack.start("nginx", ["nginx", "-c", str(config), "-p", str(config.parent)])
            wait_until(lambda: port_open(self.port), 20, "nginx")

    @property
    def url(self) -> str:
        """Where a browser opens the pages: nginx's port with `proxy`, else the first Daphne's."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def pids(self) -> list[int]:
        return [process.pid for process in self.processes]

    def stop(self):
        # The ends of the servers' logs go to stderr, out of the benchmark's report.
        with contextlib.redirect_stdout(sys.stderr):
            self.stack.close()
