"""Every page under /dashboard/. The URL names are what templates and redirects use."""

from django.urls import include, path

from dashboard.views import (
    organizations,
    overview,
    plan,
    playground,
    references,
    results,
    tokens,
    uploads,
    usage,
    workouts,
)

reference_urls = [
    path("", references.reference_list, name="references"),
    path("new/", references.reference_create, name="reference-create"),
    path("<uuid:reference_id>/", references.reference_detail, name="reference-detail"),
    path("<uuid:reference_id>/status/", references.reference_status, name="reference-status"),
    path(
        "<uuid:reference_id>/landmarks.json",
        references.reference_landmarks,
        name="reference-landmarks",
    ),
    path("<uuid:reference_id>/rename/", references.reference_rename, name="reference-rename"),
    path("<uuid:reference_id>/delete/", references.reference_delete, name="reference-delete"),
]

urlpatterns = [
    path("", overview.overview, name="dashboard"),
    path("organizations/new/", organizations.organization_create, name="organization-create"),
    path("organizations/switch/", organizations.organization_switch, name="organization-switch"),
    path("organization/rename/", organizations.organization_rename, name="organization-rename"),
    path("members/", organizations.members, name="members"),
    path("members/<int:membership_id>/role/", organizations.member_role, name="member-role"),
    path("members/<int:membership_id>/remove/", organizations.member_remove, name="member-remove"),
    path(
        "invitations/<int:invitation_id>/resend/",
        organizations.invitation_resend,
        name="invitation-resend",
    ),
    path(
        "invitations/<int:invitation_id>/cancel/",
        organizations.invitation_cancel,
        name="invitation-cancel",
    ),
    path(
        "invitations/accept/<str:secret>/",
        organizations.invitation_accept,
        name="invitation-accept",
    ),
    path("tokens/", tokens.tokens, name="tokens"),
    path("tokens/<int:token_id>/origins/", tokens.token_origins, name="token-origins"),
    path("tokens/<int:token_id>/revoke/", tokens.token_revoke, name="token-revoke"),
    path("tokens/webhook-secret/roll/", tokens.webhook_secret_roll, name="webhook-secret-roll"),
    path("plan/", plan.plan, name="plan"),
    path("usage/", usage.usage, name="usage"),
    path("usage.csv", usage.usage_csv, name="usage-csv"),
    path("playground/", playground.playground, name="playground"),
    path("playground/token/", playground.playground_token, name="playground-token"),
    path("uploads/", uploads.upload_list, name="uploads"),
    path("uploads.csv", uploads.upload_csv, name="uploads-csv"),
    path("uploads/<uuid:upload_id>/", uploads.upload_detail, name="upload-detail"),
    path("references/", include(reference_urls)),
    path("end-users/", results.end_user_list, name="end-users"),
    path("end-user-settings/", results.results_settings, name="results-settings"),
    path("end-users/<str:external_user_id>/", results.end_user_detail, name="end-user"),
    path(
        "end-users/<str:external_user_id>/erase/",
        results.end_user_erase,
        name="end-user-erase",
    ),
    path("workouts/", workouts.workout_list, name="workouts"),
    path("workouts/new/", workouts.workout_create, name="workout-create"),
    path("workouts/<uuid:workout_id>/delete/", workouts.workout_delete, name="workout-delete"),
]
