"""The one way to fetch a tenant-owned row: always scoped by organisation.

Another organisation's row is reported exactly like a missing one, so no caller can tell that it
exists.
"""

from django.http import Http404
from rest_framework.pagination import PageNumberPagination


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


def page_for_org(request, view, queryset_or_model, serializer_class):
    """An API list endpoint's answer: one page of the rows of the caller's organisation."""
    paginator = PageNumberPagination()
    rows = list_for_org(queryset_or_model, request.auth.organization)
    page = paginator.paginate_queryset(rows, request, view=view)
    return paginator.get_paginated_response(serializer_class(page, many=True).data)
