"""Dashboard forms: validation and messages only; the writes are in each app's services.py."""

import datetime

from django import forms
from django.utils import timezone

from accounts.models import ApiToken, Membership, validate_organization_name
from accounts.origins import origin_of

ROLE_HELP = "Owners and admins manage members and tokens; members see usage and references."


class OrganizationForm(forms.Form):
    name = forms.CharField(
        label="Organisation name",
        max_length=120,
        validators=[validate_organization_name],
        widget=forms.TextInput(attrs={"autocomplete": "organization"}),
    )


class InviteForm(forms.Form):
    email = forms.EmailField(
        label="E-mail address", widget=forms.EmailInput(attrs={"autocomplete": "off"})
    )
    role = forms.ChoiceField(
        label="Role", choices=Membership.Role.choices, initial="member", help_text=ROLE_HELP
    )

    def __init__(self, *args, can_grant_owner: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if not can_grant_owner:
            self.fields["role"].choices = [
                c for c in Membership.Role.choices if c[0] != Membership.Role.OWNER
            ]


class RoleForm(forms.Form):
    role = forms.ChoiceField(label="Role", choices=Membership.Role.choices)


class TokenForm(forms.Form):
    kind = forms.ChoiceField(
        label="Kind",
        choices=[
            (
                ApiToken.Kind.PUBLISHABLE,
                "Publishable (ft_pub_…): for pages and apps. Opens the tracking and upload "
                "pages; safe to put in a page's URL.",
            ),
            (
                ApiToken.Kind.SECRET,
                "Secret (ft_live_…): for your server. Calls the whole REST API; never put it "
                "in a page or an app.",
            ),
        ],
        initial=ApiToken.Kind.PUBLISHABLE,
        required=False,  # the least a key may do, unless a secret one is asked for
        widget=forms.RadioSelect,
    )
    name = forms.CharField(
        label="Name",
        max_length=100,
        help_text="What uses it, e.g. “iOS app” or “staging website”.",
    )
    allowed_origins = forms.CharField(
        label="Allowed origins (optional)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "https://app.example.com"}),
        help_text="One per line. Leave empty to allow any origin (mobile apps, servers).",
    )
    expires_on = forms.DateField(
        label="Expires on (optional)",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="The token works until the end of this day (UTC). Empty: never expires.",
    )

    def clean_kind(self) -> str:
        return self.cleaned_data["kind"] or ApiToken.Kind.PUBLISHABLE

    def clean_allowed_origins(self) -> list[str]:
        origins, bad = [], []
        for line in self.cleaned_data["allowed_origins"].splitlines():
            line = line.strip()
            if not line:
                continue
            origin = origin_of(line)
            (origins if origin else bad).append(origin or line)
        if bad:
            raise forms.ValidationError(
                "Write each origin as scheme and host, like https://app.example.com "
                f"(not: {', '.join(bad[:3])})."
            )
        return origins

    def clean_expires_on(self):
        day = self.cleaned_data["expires_on"]
        if day is not None and day < timezone.now().date():
            raise forms.ValidationError("Choose today or a later day.")
        return day

    @property
    def expires_at(self):
        day = self.cleaned_data.get("expires_on")
        if day is None:
            return None
        next_day = day + datetime.timedelta(days=1)
        return datetime.datetime.combine(next_day, datetime.time.min, tzinfo=datetime.UTC)


class ReferenceCreateForm(forms.Form):
    name = forms.CharField(
        label="Name", max_length=120, help_text="For example “Client squat — coach demo”."
    )
    video = forms.FileField(
        label="Video",
        help_text="One clean repetition, filmed like your users will be filmed.",
        widget=forms.ClearableFileInput(attrs={"accept": "video/*"}),
    )
    trim_start_ms = forms.IntegerField(label="Start (ms)", min_value=0, initial=0)
    trim_end_ms = forms.IntegerField(label="End (ms)", min_value=1, required=False)


class ReferenceRenameForm(forms.Form):
    name = forms.CharField(label="Name", max_length=120)
