from django.apps import AppConfig


class FormTrackConfig(AppConfig):
    """The project itself as an app, for what belongs to no feature: its system checks."""

    name = "config"
    verbose_name = "FormTrack"

    def ready(self):
        from config import checks  # noqa: F401 - registers the production settings check
