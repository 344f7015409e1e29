"""OpenAPI description of the page and upload tickets (tracking/authentication.py)."""

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


class UploadTicketScheme(OpenApiAuthenticationExtension):
    target_class = "tracking.authentication.UploadTicketAuthentication"
    name = "UploadTicket"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "query",
            "name": "upload_ticket",
            "description": "One upload's `ticket`: reads that upload and its events (24 h).",
        }
