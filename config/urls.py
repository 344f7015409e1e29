from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from accounts import api as accounts_api
from accounts import views as accounts_views
from tracking import api as tracking_api
from tracking import views as tracking_views

api_v1 = [
    path("exercises", tracking_api.ExerciseListView.as_view(), name="api-exercises"),
    path("me", accounts_api.MeView.as_view(), name="api-me"),
]

urlpatterns = [
    path("", accounts_views.home, name="home"),
    path("dashboard/", accounts_views.dashboard, name="dashboard"),
    path("pose_tracker/tracking", tracking_views.tracking_page, name="tracking"),
    path(
        "pose_tracker/upload_tracking",
        tracking_views.upload_tracking_page,
        name="upload-tracking",
    ),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("accounts/", include("allauth.urls")),
    path("admin/", admin.site.urls),
]
