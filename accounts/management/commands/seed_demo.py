from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from accounts import services
from accounts.models import ApiToken, Membership, Organization

DEMO_EMAIL = "demo@formtrack.local"
DEMO_PASSWORD = "formtrack-demo"  # noqa: S105 - a local demo account, printed to the console
DEMO_ORG = "FormTrack Demo"


class Command(BaseCommand):
    help = (
        "Create (idempotently) a demo org on the developer plan, a user, and new keys: a secret "
        "one for the API (DEMO_TOKEN) and a publishable one for the pages (DEMO_PUBLISHABLE_KEY)."
    )

    @transaction.atomic
    def handle(self, *args, **options):
        user_model = get_user_model()
        user, created = user_model.objects.get_or_create(
            username=DEMO_EMAIL, defaults={"email": DEMO_EMAIL}
        )
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save()
        org = Organization.objects.filter(name=DEMO_ORG, memberships__user=user).first()
        if org is None:
            org = services.organization_create(name=DEMO_ORG, owner=user, plan="developer")
        services.membership_add(organization=org, user=user, role=Membership.Role.OWNER)
        _, secret = services.token_create(organization=org, name="Demo secret key", created_by=user)
        _, publishable = services.token_create(
            organization=org,
            name="Demo publishable key",
            kind=ApiToken.Kind.PUBLISHABLE,
            created_by=user,
        )
        self.stdout.write(f"Demo user: {DEMO_EMAIL} / {DEMO_PASSWORD}")
        self.stdout.write(f"DEMO_TOKEN={secret}")
        self.stdout.write(f"DEMO_PUBLISHABLE_KEY={publishable}")
