"""OpenAPI 3 document built from the routes an ``Api`` declares."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from aos.api.app import Api

_PARAM = re.compile(r"{(\w+)}")


def flask_path(path: str) -> str:
    """``/v1/nodes/{hostname}`` → ``/v1/nodes/<hostname>``."""
    return _PARAM.sub(r"<\1>", path)


def document(api: Api) -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for route in api.routes:
        operation: dict[str, Any] = {
            "summary": route.summary,
            "responses": {
                str(route.status): {"description": "success"},
                "400": {"description": "bad request"},
                "401": {"description": "not authenticated"},
                "403": {"description": "not allowed by policy"},
                "404": {"description": "not found"},
                "409": {"description": "conflicts with the current state"},
            },
        }
        parameters = [
            {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
            for name in _PARAM.findall(route.path)
        ]
        parameters += [
            {"name": name, "in": "query", "required": False, "description": text,
             "schema": {"type": "string"}}
            for name, text in route.query.items()
        ]
        if parameters:
            operation["parameters"] = parameters
        if route.rule:
            operation["x-policy-rule"] = route.rule
        if route.schema is not None:
            operation["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": route.schema}},
            }
        paths.setdefault(route.path, {})[route.method.lower()] = operation
    return {
        "openapi": "3.0.3",
        "info": {"title": f"{api.title} API", "version": api.version},
        "paths": paths,
        "components": {
            "securitySchemes": {"keystone": {"type": "apiKey", "in": "header",
                                             "name": "X-Auth-Token"}}
        },
        "security": [{"keystone": []}],
    }
