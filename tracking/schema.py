"""OpenAPI description of the page ticket (tracking/authentication.py)."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class PageTicketScheme(OpenApiAuthenticationExtension):
    target_class = "tracking.authentication.PageTicketAuthentication"
    name = "PageTicket"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "query",
            "name": "ticket",
            "description": "The ticket of an upload page opened from a single-use link.",
        }
