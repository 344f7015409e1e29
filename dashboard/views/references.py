"""Dashboard pages for reference movements: list, create (upload or webcam + trim), view, rename,
delete. Members see them; owners and admins change them."""

from django.contrib import messages
from django.http import JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from accounts import tenancy
from config.error_pages import error_response
from config.errors import FormTrackError
from dashboard.forms import ReferenceCreateForm, ReferenceRenameForm
from dashboard.shell import media_path, org_view, render_dashboard
from references import selectors, services
from references.models import ReferenceMovement


def _wants_json(request) -> bool:
    return "application/json" in request.headers.get("Accept", "")


@org_view()
@require_GET
def reference_list(request):
    references = list(
        tenancy.list_for_org(ReferenceMovement, request.org).select_related("created_by")
    )
    for reference in references:
        span = (reference.trim_end_ms or 0) - reference.trim_start_ms
        reference.length_s = span / 1000 if span > 0 else None
    context = {
        "references": references,
        "allowance": selectors.reference_allowance(organization=request.org),
    }
    return render_dashboard(request, "references/list.html", context, section="references")


@org_view(manage=True)
def reference_create(request):
    form = ReferenceCreateForm(request.POST or None, request.FILES or None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                reference = services.reference_create(
                    organization=request.org,
                    name=form.cleaned_data["name"],
                    file=form.cleaned_data["video"],
                    trim_start_ms=form.cleaned_data["trim_start_ms"],
                    trim_end_ms=form.cleaned_data["trim_end_ms"],
                    created_by=request.user,
                )
            except services.ReferenceRejected as rejected:
                field = "name" if rejected.code == "invalid_name" else "video"
                if rejected.code == "invalid_trim":
                    field = "trim_end_ms"
                form.add_error(field, rejected.message)
                status = rejected.status
            else:
                url = reverse("reference-detail", args=[reference.pk])
                if _wants_json(request):
                    return JsonResponse({"id": str(reference.pk), "url": url}, status=201)
                messages.success(request, "Reference saved: its movement is being extracted.")
                return redirect(url)
        if _wants_json(request):
            errors = {name: [str(e) for e in errs] for name, errs in form.errors.items()}
            return JsonResponse({"errors": errors}, status=status)
    # Before anything is filled in: how many the plan allows, and none at all past its limit.
    context = {"form": form, "allowance": selectors.reference_allowance(organization=request.org)}
    return render_dashboard(
        request, "references/create.html", context, section="references", status=status
    )


def _urls(request, reference) -> dict:
    tracking = request.build_absolute_uri(reverse("tracking"))
    upload = request.build_absolute_uri(reverse("upload-tracking"))
    return {
        "tracking": f"{tracking}?token=YOUR_TOKEN&reference={reference.pk}",
        "upload": f"{upload}?token=YOUR_TOKEN&source=video&reference={reference.pk}",
    }


@org_view()
@require_GET
def reference_detail(request, reference_id):
    reference = tenancy.get_for_org(ReferenceMovement, request.org, pk=reference_id)
    context = {
        "reference": reference,
        "urls": _urls(request, reference),
        "video_url": media_path(reference.video.name) if reference.video else None,
        "rename_form": ReferenceRenameForm(initial={"name": reference.name}),
        "config": {
            "statusUrl": reverse("reference-status", args=[reference.pk]),
            "landmarksUrl": reverse("reference-landmarks", args=[reference.pk]),
            "status": reference.status,
        },
    }
    return render_dashboard(request, "references/detail.html", context, section="references")


@org_view()
@require_GET
def reference_status(request, reference_id):
    reference = tenancy.get_for_org(ReferenceMovement, request.org, pk=reference_id)
    return JsonResponse(
        {
            "id": str(reference.pk),
            "status": reference.status,
            "progress": reference.progress,
            "error": reference.failure,
        }
    )


@org_view()
@require_GET
def reference_landmarks(request, reference_id):
    reference = tenancy.get_for_org(ReferenceMovement, request.org, pk=reference_id)
    if reference.status != ReferenceMovement.Status.READY or not reference.landmarks:
        return error_response(
            FormTrackError("not_ready", "This reference has no landmarks yet.", 409)
        )
    response = JsonResponse(reference.landmarks)
    response["Cache-Control"] = "private, max-age=3600"
    return response


@org_view(manage=True)
@require_POST
def reference_rename(request, reference_id):
    reference = tenancy.get_for_org(ReferenceMovement, request.org, pk=reference_id)
    form = ReferenceRenameForm(request.POST)
    if form.is_valid():
        services.reference_rename(reference=reference, name=form.cleaned_data["name"])
        messages.success(request, "Reference renamed.")
    else:
        messages.error(request, "Give the reference a name (at most 120 characters).")
    return redirect("reference-detail", reference_id=reference.pk)


@org_view(manage=True)
@require_POST
def reference_delete(request, reference_id):
    reference = tenancy.get_for_org(ReferenceMovement, request.org, pk=reference_id)
    name = reference.name
    services.reference_delete(reference=reference)
    messages.success(request, f"Reference “{name}” deleted: its UUID no longer works.")
    return redirect("references")
