"""Workouts: the organisation's saved workouts, with the live page's link for each; owners and
admins save them (the steps written as the workout parameter writes them inline) and delete them."""

from django.contrib import messages
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from accounts import tenancy
from config.errors import FormTrackError
from dashboard.forms import WorkoutForm
from dashboard.shell import org_view, render_dashboard
from tracking import workouts
from tracking.models import SavedWorkout


def _page(request, form, status=200):
    tracking = request.build_absolute_uri(reverse("tracking"))
    saved_workouts = list(tenancy.list_for_org(SavedWorkout, request.org))
    for saved in saved_workouts:
        saved.tracking_url = f"{tracking}?token=YOUR_TOKEN&workout={saved.pk}"
    context = {"form": form, "workouts": saved_workouts}
    return render_dashboard(
        request, "dashboard/workouts.html", context, section="workouts", status=status
    )


@org_view()
@require_GET
def workout_list(request):
    return _page(request, WorkoutForm())


@org_view(manage=True)
@require_POST
def workout_create(request):
    form = WorkoutForm(request.POST)
    if form.is_valid():
        try:
            saved = workouts.workout_create(
                organization=request.org,
                name=form.cleaned_data["name"],
                workout=workouts.workout_read(inline=form.cleaned_data["steps"]),
                created_by=request.user,
            )
        except FormTrackError as refused:
            form.add_error("steps", refused.message)
        else:
            messages.success(request, f"Workout “{saved.name}” saved.")
            return redirect("workouts")
    return _page(request, form, status=400)


@org_view(manage=True)
@require_POST
def workout_delete(request, workout_id):
    saved = tenancy.get_for_org(SavedWorkout, request.org, pk=workout_id)
    workouts.workout_delete(workout=saved)
    messages.success(request, f"Workout “{saved.name}” deleted: its UUID no longer works.")
    return redirect("workouts")
