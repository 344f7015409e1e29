"""WebSocket routes. The live tracking consumer (real-time issue) registers here."""

websocket_urlpatterns: list = []
