from django.urls import path

from tracking import consumers

websocket_urlpatterns = [
    path("ws/pose_tracker/tracking", consumers.TrackingConsumer.as_asgi()),
    path("ws/uploads/<uuid:upload_id>", consumers.UploadProgressConsumer.as_asgi()),
]
