"""Organisations (the tenants), their members, API tokens and usage.

Every tenant-owned model has an `organization` foreign key and a `TenantQuerySet` manager, so that
lookups go through `accounts.tenancy` and can never reach another organisation's rows.
"""

import hashlib
import hmac
import secrets
import unicodedata

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone

from accounts import plans

# Key prefixes say what a key may do (Stripe's model), for people and for secret scanners alike.
SECRET_KEY_PREFIX = "ft_live_"  # noqa: S105 - a public prefix, not a secret
PUBLISHABLE_KEY_PREFIX = "ft_pub_"
# The visible part of a key: its prefix plus the first characters of the secret, enough to tell
# keys apart in the dashboard, too few to guess the rest.
VISIBLE_SECRET_CHARACTERS = 8
# The name of the short-lived keys the dashboard's playground makes (accounts.services).
PLAYGROUND_TOKEN_NAME = "Playground (dashboard)"  # noqa: S105 - a token's display name


class TenantQuerySet(models.QuerySet):
    def for_org(self, organization):
        return self.filter(organization=organization)


DEFAULT_RESULT_RETENTION_DAYS = 365
MAX_RESULT_RETENTION_DAYS = 3650


def new_webhook_secret() -> str:
    return "whsec_" + secrets.token_hex(24)


def breaks_one_line(character: str) -> bool:
    """Control and format characters (CR, LF, NUL, bidi overrides) and line or paragraph
    separators: none belongs in one line of text such as a name or an e-mail address."""
    return unicodedata.category(character) in ("Cc", "Cf", "Zl", "Zp")


def validate_organization_name(name: str) -> None:
    """An organisation's name goes into e-mail subjects and page titles: one line of text."""
    if any(breaks_one_line(c) for c in name):
        raise ValidationError(
            "Use letters, digits, spaces and punctuation only: no line breaks or control "
            "characters.",
            code="invalid_characters",
        )
    if name != name.strip():
        raise ValidationError("Remove the spaces around the name.", code="untrimmed")


class Organization(models.Model):
    name = models.CharField(max_length=120, validators=[validate_organization_name])
    plan = models.CharField(
        max_length=20,
        choices=[(p.id, p.name) for p in plans.PLANS.values()],
        default=plans.FREE.id,
    )
    # Only business organisations have a negotiated quota; other plans take theirs from plans.py.
    custom_monthly_calls = models.PositiveIntegerField(null=True, blank=True)
    # Signs upload callbacks and session.completed webhooks (Standard Webhooks
    # `webhook-signature`, and the older X-FormTrack-Signature), so receivers can check they came
    # from us.
    webhook_secret = models.CharField(max_length=64, default=new_webhook_secret)
    # Receives session.completed for each result stored (tracking/results.py); empty: none sent.
    webhook_url = models.URLField(max_length=500, blank=True)
    # How long the results stored for end users (and their uploads) are kept.
    result_retention_days = models.PositiveIntegerField(
        default=DEFAULT_RESULT_RETENTION_DAYS,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_RESULT_RETENTION_DAYS)],
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    @property
    def plan_obj(self) -> plans.Plan:
        return plans.get_plan(self.plan)

    @property
    def monthly_call_limit(self) -> int:
        if self.plan_obj.monthly_calls is not None:
            return self.plan_obj.monthly_calls
        if self.custom_monthly_calls is not None:
            return self.custom_monthly_calls
        return settings.BUSINESS_DEFAULT_MONTHLY_CALLS


class Membership(models.Model):
    class Role(models.TextChoices):
        OWNER = "owner", "Owner"
        ADMIN = "admin", "Admin"
        MEMBER = "member", "Member"

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="memberships"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.MEMBER)
    created_at = models.DateTimeField(default=timezone.now)

    objects = TenantQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "user"], name="unique_membership")
        ]

    def __str__(self):
        return f"{self.user} in {self.organization} ({self.role})"

    @property
    def can_manage(self) -> bool:
        return self.role in (self.Role.OWNER, self.Role.ADMIN)


def secret_digest(raw: str) -> str:
    """What we store of a secret we hand out (API key, invitation link, tracking link): its
    HMAC-SHA256 keyed with API_TOKEN_PEPPER, or its SHA-256 when no pepper is set."""
    key = settings.API_TOKEN_PEPPER.encode()
    if key:
        return hmac.new(key, raw.encode(), hashlib.sha256).hexdigest()
    return hashlib.sha256(raw.encode()).hexdigest()


class ApiToken(models.Model):
    """An API key. A secret key (`ft_live_…`) does everything, server side; a publishable key
    (`ft_pub_…`) may sit in a public page: it opens the tracking and upload pages and their
    sockets, uploads a file, and is refused by every other REST endpoint."""

    class Kind(models.TextChoices):
        PUBLISHABLE = "publishable", "Publishable"
        SECRET = "secret", "Secret"

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=12, choices=Kind.choices, default=Kind.SECRET)
    prefix = models.CharField(max_length=32, unique=True)
    digest = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    # Empty: usable from anywhere. Otherwise pages, WebSockets and the API refuse other origins.
    allowed_origins = models.JSONField(default=list, blank=True)
    # When a secret key last opened a page or socket: it was in a page's URL, so it may have leaked.
    used_in_page_at = models.DateTimeField(null=True, blank=True)
    # When a tracking page last opened with the key from our own site (the dashboard's playground
    # or a key's "Try it" link), and from anywhere else: another site's iframe or an app's WebView.
    tried_at = models.DateTimeField(null=True, blank=True)
    embedded_at = models.DateTimeField(null=True, blank=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"

    @classmethod
    def new_secret(cls, kind: str) -> str:
        prefix = PUBLISHABLE_KEY_PREFIX if kind == cls.Kind.PUBLISHABLE else SECRET_KEY_PREFIX
        return prefix + secrets.token_urlsafe(32).replace("-", "x").replace("_", "y")

    @staticmethod
    def visible_prefix(raw: str) -> str:
        prefix = (
            PUBLISHABLE_KEY_PREFIX if raw.startswith(PUBLISHABLE_KEY_PREFIX) else SECRET_KEY_PREFIX
        )
        return raw[: len(prefix) + VISIBLE_SECRET_CHARACTERS]

    @property
    def is_secret(self) -> bool:
        return self.kind == self.Kind.SECRET

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None

    @property
    def is_expired(self) -> bool:
        return self.expires_at is not None and self.expires_at <= timezone.now()

    @property
    def is_active(self) -> bool:
        return not self.is_revoked and not self.is_expired

    def allows_origin(self, origin: str | None) -> bool:
        if not self.allowed_origins:
            return True
        return origin is not None and origin in self.allowed_origins


class MonthlyUsage(models.Model):
    """Calls taken by an organisation in one calendar month: the quota counter."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="monthly_usage"
    )
    month = models.DateField(help_text="First day of the month.")
    calls = models.PositiveIntegerField(default=0)

    objects = TenantQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "month"], name="unique_monthly_usage")
        ]

    def __str__(self):
        return f"{self.organization} {self.month:%Y-%m}: {self.calls}"


class UsageRecord(models.Model):
    """Per-day usage rows for the reports: one per org, token, exercise, kind and day."""

    class Kind(models.TextChoices):
        LIVE = "live", "Live"
        UPLOAD = "upload", "Upload"

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="usage_records"
    )
    token = models.ForeignKey(
        ApiToken, null=True, blank=True, on_delete=models.SET_NULL, related_name="usage_records"
    )
    exercise = models.CharField(max_length=64, blank=True)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    day = models.DateField()
    calls = models.PositiveIntegerField(default=0)
    seconds_tracked = models.FloatField(default=0)

    objects = TenantQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "token", "exercise", "kind", "day"],
                condition=models.Q(token__isnull=False),
                name="unique_usage_record_per_token",
            ),
            # Rows whose token was deleted (or usage without a token) still add up per day.
            models.UniqueConstraint(
                fields=["organization", "exercise", "kind", "day"],
                condition=models.Q(token__isnull=True),
                name="unique_usage_record_without_token",
            ),
        ]
        indexes = [models.Index(fields=["organization", "day"])]

    def __str__(self):
        return f"{self.organization} {self.day} {self.kind} {self.exercise}: {self.calls}"


class Invitation(models.Model):
    """An e-mailed invitation to join an organisation with a role.

    Only the SHA-256 of the link's secret is stored: the link in the e-mail is the only copy.
    """

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="invitations"
    )
    email = models.EmailField()
    role = models.CharField(
        max_length=10, choices=Membership.Role.choices, default=Membership.Role.MEMBER
    )
    token_hash = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="invitations_sent",
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="invitations_accepted",
    )

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            # One open invitation per address and organisation: inviting again renews it.
            models.UniqueConstraint(
                fields=["organization", "email"],
                condition=models.Q(accepted_at__isnull=True),
                name="unique_open_invitation",
            )
        ]

    def __str__(self):
        return f"{self.email} to {self.organization} ({self.role})"

    @property
    def is_accepted(self) -> bool:
        return self.accepted_at is not None

    @property
    def is_expired(self) -> bool:
        return self.expires_at <= timezone.now()
