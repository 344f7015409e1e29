"""Dashboard forms: validation and messages only; the writes are in each app's services.py."""

import datetime

from django import forms
from django.utils import timezone

from accounts.models import (
    MAX_RESULT_RETENTION_DAYS,
    ApiToken,
    Membership,
    validate_organization_name,
)
from accounts.origins import origin_of
from config.errors import FormTrackError
from tracking import webhooks

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


class OriginListField(forms.CharField):
    """Origins, one per line, cleaned to a list of `scheme://host[:port]`."""

    def __init__(self, **kwargs):
        kwargs.setdefault("label", "Allowed origins (optional)")
        kwargs.setdefault("required", False)
        kwargs.setdefault(
            "widget",
            forms.Textarea(attrs={"rows": 3, "placeholder": "https://app.example.com"}),
        )
        kwargs.setdefault(
            "help_text", "One per line. Leave empty to allow any origin (mobile apps, servers)."
        )
        super().__init__(**kwargs)

    def clean(self, value) -> list[str]:
        origins, bad = [], []
        for line in super().clean(value).splitlines():
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


class TokenOriginsForm(forms.Form):
    allowed_origins = OriginListField(label="Allowed origins")


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
    allowed_origins = OriginListField()
    expires_on = forms.DateField(
        label="Expires on (optional)",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="The token works until the end of this day (UTC). Empty: never expires.",
    )

    def clean_kind(self) -> str:
        return self.cleaned_data["kind"] or ApiToken.Kind.PUBLISHABLE

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


class WorkoutForm(forms.Form):
    name = forms.CharField(label="Name", max_length=120)
    steps = forms.CharField(
        label="Steps",
        max_length=2048,
        widget=forms.TextInput(
            attrs={"placeholder": "squat:10x3,rest:30,plank:45s", "spellcheck": "false"}
        ),
        help_text="Separated by commas: <code>exercise:reps</code> or <code>exercise:45s</code> "
        "(a catalog id, or a reference movement's UUID), <code>x3</code> for 3 sets, and "
        "<code>rest:30</code> for the seconds of rest after each set of the step before.",
    )


class ReferenceRenameForm(forms.Form):
    name = forms.CharField(label="Name", max_length=120)


class ResultsSettingsForm(forms.Form):
    webhook_url = forms.URLField(
        label="Webhook endpoint (optional)",
        required=False,
        max_length=500,
        assume_scheme="https",
        widget=forms.URLInput(attrs={"placeholder": "https://api.example.com/formtrack"}),
        help_text="Receives <code>session.completed</code> for each result, signed with your "
        "webhook signing secret (API keys page). Empty: none sent.",
    )
    retention_days = forms.IntegerField(
        label="Keep results for (days)",
        min_value=1,
        max_value=MAX_RESULT_RETENTION_DAYS,
        help_text="Results, and uploads given an externalUserId, are deleted this many days "
        "after they were made (checked daily).",
    )

    def clean_webhook_url(self) -> str:
        url = self.cleaned_data["webhook_url"]
        if url:
            try:
                webhooks.callback_url_validate(url, name="The webhook endpoint")
            except FormTrackError as refused:
                raise forms.ValidationError(refused.message) from refused
        return url
