"""The project's URLs plus GET /api/v1/usage, for the tests of accounts/usage_api.py.

config/urls.py is wired by the lead; until it lists the endpoint, these tests mount it themselves
(when it does, the first match is the same view, so nothing changes).
"""

from django.urls import path

from accounts import usage_api
from config.urls import urlpatterns as project_urlpatterns

urlpatterns = [
    path("api/v1/usage", usage_api.UsageView.as_view(), name="api-usage"),
    *project_urlpatterns,
]
