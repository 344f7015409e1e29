from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from accounts import api as accounts_api
from config import doc_pages, ratelimit
from dashboard.views import overview
from references import api as references_api
from tracking import api as tracking_api
from tracking import results_api, usage_api, workout_api
from tracking import views as tracking_views

api_v1 = [
    path("exercises", tracking_api.ExerciseListView.as_view(), name="api-exercises"),
    path("me", accounts_api.MeView.as_view(), name="api-me"),
    path("usage", usage_api.UsageView.as_view(), name="api-usage"),
    path("sessions", tracking_api.TrackingLinkCreateView.as_view(), name="api-sessions"),
    path("results", results_api.ResultsView.as_view(), name="api-results"),
    path("uploads", tracking_api.UploadListCreateView.as_view(), name="api-uploads"),
    path("uploads/<uuid:upload_id>", tracking_api.UploadDetailView.as_view(), name="api-upload"),
    path("references", references_api.ReferenceListCreateView.as_view(), name="api-references"),
    path(
        "references/<uuid:reference_id>",
        references_api.ReferenceDetailView.as_view(),
        name="api-reference",
    ),
    path("workouts", workout_api.WorkoutListCreateView.as_view(), name="api-workouts"),
    path(
        "workouts/<uuid:workout_id>",
        workout_api.WorkoutDetailView.as_view(),
        name="api-workout",
    ),
    path(
        "uploads/<uuid:upload_id>/events",
        tracking_api.UploadEventsView.as_view(),
        name="api-upload-events",
    ),
    path(
        "uploads/<uuid:upload_id>/score_chart",
        tracking_api.UploadScoreChartView.as_view(),
        name="api-upload-score-chart",
    ),
]

urlpatterns = [
    path("", overview.home, name="home"),
    path("dashboard/", include("dashboard.urls")),
    # PoseTracker's page URLs, also as apps write them with a trailing slash; its deprecated
    # pixel endpoint was the live page.
    re_path(r"^pose_tracker/tracking/?$", tracking_views.tracking_page, name="tracking"),
    re_path(r"^pose_tracker/pixel/?$", tracking_views.tracking_page),
    re_path(
        r"^pose_tracker/upload_tracking/?$",
        tracking_views.upload_tracking_page,
        name="upload-tracking",
    ),
    path("files/<str:signed>", tracking_views.media_file, name="media-file"),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/docs/<slug:page>/", doc_pages.doc_page, name="doc-page"),
    path("accounts/", include("allauth.urls")),
    path("admin/login/", ratelimit.admin_login_rate_limit(admin.site.login)),
    path("admin/", admin.site.urls),
]

handler404 = "config.error_pages.page_not_found"
handler500 = "config.error_pages.server_error"
