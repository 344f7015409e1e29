"""The one way to fetch a tenant-owned row: always scoped by organisation.

Another organisation's row is reported exactly like a missing one, so no caller can tell that it
exists.
"""

from django.http import Http404


def get_for_org(queryset_or_model, organization, **lookup):
    """The row matching `lookup` inside `organization`, or Http404 (DRF answers 404 too)."""
    queryset = getattr(queryset_or_model, "objects", queryset_or_model)
    try:
        return queryset.for_org(organization).get(**lookup)
    except (queryset.model.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404(f"No {queryset.model._meta.verbose_name} found.") from exc


def list_for_org(queryset_or_model, organization):
    queryset = getattr(queryset_or_model, "objects", queryset_or_model)
    return queryset.for_org(organization)
