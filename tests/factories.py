import factory
from django.contrib.auth import get_user_model

from accounts import services
from accounts.models import Organization


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}@example.com")
    email = factory.SelfAttribute("username")
    password = factory.django.Password("correct horse battery staple")


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organization

    name = factory.Sequence(lambda n: f"Team {n}")
    plan = "developer"


def make_token(org, **kwargs) -> str:
    """A new token for `org`; returns the raw secret, as the dashboard shows it once."""
    kwargs.setdefault("name", "test token")
    _, raw = services.token_create(organization=org, **kwargs)
    return raw
