from django.urls import path

from references import views

urlpatterns = [
    path("", views.reference_list, name="references"),
    path("new/", views.reference_create, name="reference-create"),
    path("<uuid:reference_id>/", views.reference_detail, name="reference-detail"),
    path("<uuid:reference_id>/status/", views.reference_status, name="reference-status"),
    path(
        "<uuid:reference_id>/landmarks.json",
        views.reference_landmarks,
        name="reference-landmarks",
    ),
    path("<uuid:reference_id>/rename/", views.reference_rename, name="reference-rename"),
    path("<uuid:reference_id>/delete/", views.reference_delete, name="reference-delete"),
]
