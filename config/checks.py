"""Production (DEBUG off) refuses settings that are only safe on a developer's machine.

A system check, so `manage.py check --deploy` (and runserver, migrate) fail on them, and
`refuse_unsafe_settings()`, called at start-up by the server (config/asgi.py) and the Celery
worker (config/celery.py): neither starts with any of them.
"""

from django.conf import settings
from django.core import checks
from django.core.checks.security.base import _check_secret_key as _is_strong_secret_key
from django.core.exceptions import ImproperlyConfigured

# The placeholder values of deploy/env.example all contain this.
PLACEHOLDER = "change-me"
# Backends that write each e-mail, with its password-reset or invitation link, where log (or
# disk) readers see it instead of sending it.
NON_SENDING_EMAIL_BACKENDS = {
    "django.core.mail.backends.console.EmailBackend",
    "django.core.mail.backends.filebased.EmailBackend",
}


def _secrets() -> dict[str, str]:
    """Each secret setting by name, as configured."""
    secrets = {
        "DJANGO_SECRET_KEY": settings.SECRET_KEY,
        "API_TOKEN_PEPPER": settings.API_TOKEN_PEPPER,
        "EMAIL_URL password": settings.EMAIL_HOST_PASSWORD,
    }
    for i, fallback in enumerate(settings.SECRET_KEY_FALLBACKS):
        secrets[f"SECRET_KEY_FALLBACKS[{i}]"] = fallback
    for alias, database in settings.DATABASES.items():
        secrets[f"DATABASES[{alias!r}] password"] = database.get("PASSWORD")
    return {name: str(value or "") for name, value in secrets.items()}


@checks.register(checks.Tags.security)
def unsafe_production_settings(app_configs=None, **kwargs) -> list[checks.Error]:
    if settings.DEBUG:
        return []
    errors = []
    if settings.SECRET_KEY == settings.DEVELOPMENT_SECRET_KEY:
        errors.append(
            checks.Error(
                "DJANGO_SECRET_KEY is the built-in development key, which is public: anyone could "
                "sign sessions, links and e-mail confirmations.",
                hint="Set DJANGO_SECRET_KEY to 50 or more random characters, e.g. "
                "`python -c 'import secrets; print(secrets.token_urlsafe(50))'`.",
                id="formtrack.E001",
            )
        )
    keys = {"DJANGO_SECRET_KEY": settings.SECRET_KEY}
    keys.update(
        (f"SECRET_KEY_FALLBACKS[{i}]", key) for i, key in enumerate(settings.SECRET_KEY_FALLBACKS)
    )
    for name, key in keys.items():
        # Django's own criteria (security.W009: under 50 characters, under 5 distinct ones, or
        # the django-insecure- prefix), which it only warns about.
        if not _is_strong_secret_key(str(key)):
            errors.append(
                checks.Error(
                    f"{name} is too weak to sign sessions and links: it is shorter than 50 "
                    "characters, has fewer than 5 distinct characters, or starts with "
                    "'django-insecure-'.",
                    hint="Set it to 50 or more random characters, e.g. "
                    "`python -c 'import secrets; print(secrets.token_urlsafe(50))'`.",
                    id="formtrack.E005",
                )
            )
    if "*" in settings.ALLOWED_HOSTS:
        errors.append(
            checks.Error(
                "DJANGO_ALLOWED_HOSTS contains '*': any Host header is accepted, so a request "
                "could make the server build its links on another site's name.",
                hint="List the host names FormTrack is served on, e.g. "
                "DJANGO_ALLOWED_HOSTS=formtrack.example.com.",
                id="formtrack.E006",
            )
        )
    for name, value in _secrets().items():
        if PLACEHOLDER in value.lower():
            errors.append(
                checks.Error(
                    f"{name} is still the '{PLACEHOLDER}' placeholder of deploy/env.example.",
                    hint="Replace every change-me value with a secret of your own.",
                    id="formtrack.E002",
                )
            )
    if settings.EMAIL_BACKEND in NON_SENDING_EMAIL_BACKENDS:
        errors.append(
            checks.Error(
                f"EMAIL_BACKEND is {settings.EMAIL_BACKEND}: password-reset and invitation links "
                "would be written to the log instead of being sent.",
                hint="Set EMAIL_URL (e.g. smtp+tls://user:password@smtp.example.com:587) or "
                "EMAIL_BACKEND to a backend that sends e-mail.",
                id="formtrack.E003",
            )
        )
    if settings.CALLBACK_ALLOW_PRIVATE_HOSTS:
        errors.append(
            checks.Error(
                "CALLBACK_ALLOW_PRIVATE_HOSTS is on: any API client could make the server call "
                "loopback and private-network addresses (its database, Redis, cloud metadata).",
                hint="Unset CALLBACK_ALLOW_PRIVATE_HOSTS; it is for local testing only.",
                id="formtrack.E004",
            )
        )
    return errors


def refuse_unsafe_settings() -> None:
    """Raise ImproperlyConfigured, naming every problem, if production settings are unsafe."""
    errors = unsafe_production_settings()
    if errors:
        problems = "\n".join(f"- {error.msg} {error.hint} ({error.id})" for error in errors)
        raise ImproperlyConfigured(f"Refusing to start with DJANGO_DEBUG=False:\n{problems}")
