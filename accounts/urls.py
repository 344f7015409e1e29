from django.urls import path

from accounts import views
from tracking import dashboard_views as upload_views

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("organizations/new/", views.organization_create, name="organization-create"),
    path("organizations/switch/", views.organization_switch, name="organization-switch"),
    path("organization/rename/", views.organization_rename, name="organization-rename"),
    path("members/", views.members, name="members"),
    path("members/<int:membership_id>/role/", views.member_role, name="member-role"),
    path("members/<int:membership_id>/remove/", views.member_remove, name="member-remove"),
    path(
        "invitations/<int:invitation_id>/resend/",
        views.invitation_resend,
        name="invitation-resend",
    ),
    path(
        "invitations/<int:invitation_id>/cancel/",
        views.invitation_cancel,
        name="invitation-cancel",
    ),
    path("invitations/accept/<str:secret>/", views.invitation_accept, name="invitation-accept"),
    path("tokens/", views.tokens, name="tokens"),
    path("tokens/<int:token_id>/revoke/", views.token_revoke, name="token-revoke"),
    path("tokens/webhook-secret/roll/", views.webhook_secret_roll, name="webhook-secret-roll"),
    path("plan/", views.plan, name="plan"),
    path("usage/", views.usage, name="usage"),
    path("usage.csv", views.usage_csv, name="usage-csv"),
    path("playground/", views.playground, name="playground"),
    path("playground/token/", views.playground_token, name="playground-token"),
    path("uploads/", upload_views.upload_list, name="uploads"),
    path("uploads/<uuid:upload_id>/", upload_views.upload_detail, name="upload-detail"),
]
