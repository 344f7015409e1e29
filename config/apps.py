from django.apps import AppConfig


class FormTrackConfig(AppConfig):
    """The project itself as an app, for what belongs to no feature: its system checks, and the
    Celery app (web processes queue jobs through it; the worker finds it as `-A config`)."""

    name = "config"
    verbose_name = "FormTrack"

    def ready(self):
        # Imported here, not in config/__init__.py: the engine imports config.errors, and must
        # not load Celery with it.
        from config import celery, checks  # noqa: F401 - the Celery app; the production check
