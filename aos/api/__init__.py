"""WSGI API base shared by the module APIs: auth, policy, audit, JSON errors, OpenAPI."""

from aos.api.app import Api, APIError, RequestContext, create_app

__all__ = ["APIError", "Api", "RequestContext", "create_app"]
