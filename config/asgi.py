"""ASGI entry point: HTTP through Django, WebSockets through Channels."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django_http = get_asgi_application()  # sets up Django before the routing imports models

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.conf import settings  # noqa: E402
from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler  # noqa: E402
from django.urls import re_path  # noqa: E402

from config.checks import refuse_unsafe_settings  # noqa: E402
from tracking.routing import websocket_urlpatterns  # noqa: E402

refuse_unsafe_settings()  # production (DEBUG off) does not serve with unsafe settings

http = ASGIStaticFilesHandler(django_http) if settings.SERVE_STATIC else django_http


async def unknown_socket(scope, receive, send):
    """A WebSocket to a path we do not serve: refused at the handshake (Daphne answers 403),
    where the router alone would raise and answer 500."""
    await receive()  # websocket.connect
    await send({"type": "websocket.close"})


application = ProtocolTypeRouter(
    {
        "http": http,
        # These sockets authenticate with an API token or a signed ticket, never a cookie, so a
        # foreign page gains nothing by opening them; token origins are checked by the consumer.
        "websocket": URLRouter([*websocket_urlpatterns, re_path(r"", unknown_socket)]),
    }
)
