"""Daphne with a token-redacting access log: `python -m config.daphne [daphne options] APP`."""

import asyncio  # isort:skip

import uvloop  # isort:skip

# Before Daphne is imported: it creates its event loop (Twisted's asyncio reactor) on import.
asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())

from daphne.access import AccessLogGenerator  # noqa: E402
from daphne.cli import CommandLineInterface  # noqa: E402
from daphne.server import Server  # noqa: E402

from config.redaction import redact  # noqa: E402


class RedactingAccessLog(AccessLogGenerator):
    def write_entry(self, host, date, request, *args, **kwargs):
        super().write_entry(host, date, redact(request), *args, **kwargs)


class RedactingServer(Server):
    def __init__(self, *args, action_logger=None, **kwargs):
        if isinstance(action_logger, AccessLogGenerator):
            action_logger = RedactingAccessLog(action_logger.stream)
        super().__init__(*args, action_logger=action_logger, **kwargs)


class RedactingCommandLine(CommandLineInterface):
    server_class = RedactingServer


if __name__ == "__main__":
    RedactingCommandLine.entrypoint()
