"""OpenAPI description of the token authentication (keeps Swagger's Authorize button)."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class ApiTokenScheme(OpenApiAuthenticationExtension):
    target_class = "accounts.authentication.ApiTokenAuthentication"
    name = "ApiToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "ft_live_…",
            "description": "A secret key. A publishable key (ft_pub_…) may only upload.",
        }
