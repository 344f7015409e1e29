import mimetypes

from django.apps import AppConfig


class TrackingConfig(AppConfig):
    name = "tracking"
    verbose_name = "Tracking"

    def ready(self):
        from tracking import schema  # noqa: F401 - registers the OpenAPI page ticket extension

        # The in-browser pose model needs these served with JavaScript / wasm types.
        mimetypes.add_type("application/wasm", ".wasm")
        mimetypes.add_type("text/javascript", ".cjs")
        mimetypes.add_type("text/javascript", ".mjs")
