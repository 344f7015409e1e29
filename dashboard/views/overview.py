"""The public home page and the dashboard's overview of the current organisation."""

from django.shortcuts import redirect, render

from accounts import selectors
from accounts.models import ApiToken
from dashboard.selectors import getting_started
from dashboard.shell import org_view, render_dashboard
from references.models import ReferenceMovement
from tracking import charts
from tracking.models import Upload


def home(request):
    if request.user.is_authenticated:
        return redirect("dashboard")
    return render(request, "dashboard/home.html")


@org_view()
def overview(request):
    org = request.org
    quota = selectors.quota_status(organization=org)
    month = selectors.usage_query_parse({})
    tokens = ApiToken.objects.for_org(org)
    context = {
        "quota": quota,
        "quota_bar": charts.quota_bar_svg(used=quota.used, limit=quota.limit),
        "totals": selectors.usage_totals(organization=org, query=month),
        "today": selectors.usage_totals(
            organization=org, query=selectors.UsageQuery(start=month.end, end=month.end)
        ),
        "active_tokens": sum(1 for t in tokens if t.is_active),
        "start": getting_started(organization=org),
        "reference_count": ReferenceMovement.objects.for_org(org).count(),
        "recent_uploads": Upload.objects.for_org(org)[:5],
        "member_count": selectors.members_of(organization=org).count(),
        "sole_owner": selectors.is_sole_owner(request.membership),
    }
    return render_dashboard(request, "dashboard/overview.html", context, section="overview")
