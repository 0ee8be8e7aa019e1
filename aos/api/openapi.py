"""OpenAPI 3.0.3 document built from the routes an ``Api`` declares.

The document must be true to the server (fuzzers and clients generate from it): the success
status and body each route answers, every error status it can give, typed query parameters.
Route schemas are written as JSON Schema (``"type": [..., "null"]``, as jsonschema validates
them) and converted here to OpenAPI 3.0's ``nullable``.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from aos.api.app import Api, Route

_PARAM = re.compile(r"{(\w+)}")

#: Error statuses every route can answer.
COMMON_ERRORS = {
    400: "bad request",
    401: "not authenticated",
    403: "not allowed by policy",
    404: "not found",
    409: "conflicts with the current state",
}

ERROR_SCHEMA = {
    "type": "object",
    "properties": {
        "error": {
            "type": "object",
            "properties": {"code": {"type": "integer"}, "message": {"type": "string"}},
            "required": ["code", "message"],
        }
    },
    "required": ["error"],
}


def flask_path(path: str) -> str:
    """``/v1/nodes/{hostname}`` → ``/v1/nodes/<hostname>``."""
    return _PARAM.sub(r"<\1>", path)


def openapi_schema(schema: Any) -> Any:
    """A JSON Schema as OpenAPI 3.0 wants it: ``["T", "null"]`` types become ``nullable``."""
    if isinstance(schema, list):
        return [openapi_schema(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    converted = {key: openapi_schema(value) for key, value in schema.items()}
    kind = schema.get("type")
    if isinstance(kind, list):
        types = [t for t in kind if t != "null"]
        if len(types) != 1:
            raise ValueError(f"OpenAPI 3.0 cannot say type {kind}")
        converted["type"] = types[0]
        if "null" in kind:
            converted["nullable"] = True
    return converted


def _json(schema: dict) -> dict[str, Any]:
    return {"application/json": {"schema": openapi_schema(schema)}}


def _responses(route: Route) -> dict[str, Any]:
    success: dict[str, Any] = {"description": "success"}
    if route.response is not None and route.status != 204:
        success["content"] = _json(route.response)
    responses = {str(route.status): success}
    for status, text in sorted({**COMMON_ERRORS, **route.errors}.items()):
        responses[str(status)] = {"description": text, "content": _json(ERROR_SCHEMA)}
    return responses


def _parameters(route: Route) -> list[dict[str, Any]]:
    parameters = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
        for name in _PARAM.findall(route.path)
    ]
    for name, spec in route.query.items():
        text, schema = spec if isinstance(spec, tuple) else (spec, {"type": "string"})
        parameters.append({"name": name, "in": "query", "required": False,
                           "description": text, "schema": openapi_schema(schema)})
    return parameters


def document(api: Api) -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for route in api.routes:
        operation: dict[str, Any] = {"summary": route.summary, "responses": _responses(route)}
        if parameters := _parameters(route):
            operation["parameters"] = parameters
        if route.rule:
            operation["x-policy-rule"] = route.rule
        if route.schema is not None:
            operation["requestBody"] = {"required": True, "content": _json(route.schema)}
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
