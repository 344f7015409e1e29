"""The organisation's plan, its quota and what the other plans add."""

from django.views.decorators.http import require_GET

from accounts import plans, selectors
from dashboard.shell import org_view, render_dashboard
from tracking import charts

FEATURE_LABELS = {
    "keypoints": "Keypoints in events",
    "angles": "Joint angles",
    "recommendations": "Form recommendations",
    "progression": "Movement progression",
    "blazepose": "Full BlazePose landmarks",
    "export": "Annotated video export",
    "team_reports": "Team usage reports (by token, member, exercise, kind) and CSV",
}


@org_view()
@require_GET
def plan(request):
    org = request.org
    quota = selectors.quota_status(organization=org)
    current = org.plan_obj
    all_features = list(FEATURE_LABELS)
    rows = []
    for candidate in plans.PLANS.values():
        rows.append(
            {
                "plan": candidate,
                "calls": candidate.monthly_calls,
                "references": candidate.max_references,
                "features": [(FEATURE_LABELS[f], candidate.allows(f)) for f in all_features],
                "adds": [
                    FEATURE_LABELS.get(f, f) for f in sorted(candidate.features - current.features)
                ],
                "is_current": candidate.id == current.id,
            }
        )
    context = {
        "quota": quota,
        "quota_bar": charts.quota_bar_svg(used=quota.used, limit=quota.limit),
        "current": current,
        "current_features": [FEATURE_LABELS.get(f, f) for f in sorted(current.features)],
        "plans": rows,
        "feature_names": [FEATURE_LABELS[f] for f in all_features],
    }
    return render_dashboard(request, "dashboard/plan.html", context, section="plan")
