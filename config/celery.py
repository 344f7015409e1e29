import os

from celery import Celery, bootsteps

from config.checks import refuse_unsafe_settings

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("formtrack")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


class RefuseUnsafeSettings(bootsteps.Step):
    """A worker step: production (DEBUG off) runs no jobs with unsafe settings."""

    def __init__(self, parent, **kwargs):
        refuse_unsafe_settings()
        super().__init__(parent, **kwargs)


app.steps["worker"].add(RefuseUnsafeSettings)
