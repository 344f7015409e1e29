from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render

from accounts import selectors
from accounts.models import ApiToken


def home(request):
    if request.user.is_authenticated:
        return redirect("dashboard")
    return render(request, "accounts/home.html")


@login_required
def dashboard(request):
    organizations = []
    for membership in selectors.memberships_of(request.user):
        org = membership.organization
        organizations.append(
            {
                "org": org,
                "role": membership.get_role_display(),
                "quota": selectors.quota_status(organization=org),
                "tokens": ApiToken.objects.for_org(org),
            }
        )
    return render(request, "accounts/dashboard.html", {"organizations": organizations})
