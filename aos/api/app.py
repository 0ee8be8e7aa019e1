"""A small Flask-based API frame: every route declares its policy rule and body schema once.

``Api`` collects routes the way a Flask blueprint does, and also knows enough about each of
them (rule, summary, schema) to enforce oslo.policy and to publish an OpenAPI document.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import flask
import jsonschema
from oslo_config import cfg
from oslo_policy import policy as oslo_policy
from werkzeug.exceptions import HTTPException

from aos.api import openapi
from aos.api.auth import wrap_auth

AUDIT_LOG = logging.getLogger("aos.audit")
LOG = logging.getLogger(__name__)


class APIError(Exception):
    """An error the caller can act on; becomes a JSON response with ``status``."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class RequestContext:
    user_id: str | None
    project_id: str | None
    roles: tuple[str, ...]
    is_admin: bool = False
    #: "all" for a system-scoped token (keystonemiddleware's OpenStack-System-Scope header):
    #: the default rules let a reader read with system scope only.
    system_scope: str | None = None

    def credentials(self) -> dict[str, Any]:
        return {
            "user_id": self.user_id,
            "project_id": self.project_id,
            "roles": list(self.roles),
            "is_admin": self.is_admin,
            "system_scope": self.system_scope,
        }


#: A query parameter: its description, or (description, JSON schema of its value).
QueryParam = str | tuple[str, dict]

#: Longest message an error reply carries: a reply must not echo a 1 MB invalid value.
MAX_ERROR_MESSAGE = 500


@dataclass
class Route:
    path: str
    method: str
    view: Callable[..., Any]
    rule: str | None
    summary: str
    schema: dict | None = None
    status: int = 200
    query: dict[str, QueryParam] = field(default_factory=dict)
    #: JSON schema of the success body (None: no body, e.g. 204).
    response: dict | None = None
    #: Error statuses beyond the common ones (400, 401, 403, 404, 409), with their meaning.
    errors: dict[int, str] = field(default_factory=dict)


class Api:
    """Routes of one module's API, with their policy rules and schemas."""

    def __init__(self, title: str, version: str, rules: list[oslo_policy.RuleDefault]) -> None:
        self.title = title
        self.version = version
        self.rules = rules
        self.routes: list[Route] = []

    def route(self, path: str, method: str = "GET", *, rule: str | None, summary: str,
              schema: dict | None = None, status: int | None = None,
              query: dict[str, QueryParam] | None = None, response: dict | None = None,
              errors: dict[int, str] | None = None) -> Callable:
        """Declare a route; ``rule`` None means no policy check (public).

        ``status`` defaults to 204 for DELETE (no body) and 200 otherwise: the OpenAPI
        document must say what the server answers.
        """
        if status is None:
            status = 204 if method == "DELETE" else 200

        def register(view: Callable[..., Any]) -> Callable[..., Any]:
            self.routes.append(Route(path, method, view, rule, summary, schema, status,
                                     query or {}, response, errors or {}))
            return view

        return register


def create_app(api: Api, conf: cfg.ConfigOpts, **extensions: Any) -> Callable:
    """The WSGI application: Flask app with the routes, wrapped in keystonemiddleware."""
    app = flask.Flask(api.title)
    app.config["AOS_CONF"] = conf
    app.extensions.update(extensions)
    enforcer = oslo_policy.Enforcer(conf)
    enforcer.register_defaults(api.rules)
    audit = conf.api.audit_enabled
    noauth = conf.api.auth_strategy == "noauth"

    for route in api.routes:
        app.add_url_rule(
            openapi.flask_path(route.path),
            endpoint=f"{route.method}:{route.path}",
            view_func=_view(route, enforcer, noauth),
            methods=[route.method],
        )

    @app.get("/")
    def versions() -> Any:
        return {"versions": [{"id": f"v{api.version}", "status": "CURRENT",
                              "links": [{"rel": "self", "href": flask.request.host_url + "v1"}]}],
                "name": api.title}

    @app.get("/openapi.json")
    def openapi_document() -> Any:
        return openapi.document(api)

    @app.errorhandler(APIError)
    def api_error(exc: APIError) -> Any:
        return _error(exc.status, exc.message)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Any:
        body, status = _error(exc.code or 500, exc.description or exc.name)
        allowed = getattr(exc, "valid_methods", None)  # 405 says what is allowed
        return body, status, {"Allow": ", ".join(allowed)} if allowed else {}

    @app.errorhandler(Exception)
    def unexpected(exc: Exception) -> Any:
        LOG.exception("unexpected error in %s %s", flask.request.method, flask.request.path)
        return _error(500, "internal error; see the API service log")

    @app.before_request
    def start_timer() -> None:
        flask.g.started = time.monotonic()

    @app.after_request
    def audit_log(response: flask.Response) -> flask.Response:
        if audit:
            ctx = _context(noauth)
            AUDIT_LOG.info(
                "%s %s -> %s user=%s project=%s %.1fms",
                flask.request.method, flask.request.full_path.rstrip("?"), response.status_code,
                ctx.user_id, ctx.project_id,
                (time.monotonic() - flask.g.get("started", time.monotonic())) * 1000,
            )
        return response

    return wrap_auth(app, conf, public_paths={"/", "/openapi.json"}, noauth=noauth)


def _view(route: Route, enforcer: oslo_policy.Enforcer, noauth: bool) -> Callable:
    def view(**kwargs: Any) -> Any:
        ctx = _context(noauth)
        if route.rule:
            target = {"project_id": ctx.project_id, "user_id": ctx.user_id}
            try:
                enforcer.authorize(route.rule, target, ctx.credentials(), do_raise=True)
            except oslo_policy.PolicyNotAuthorized:
                raise APIError(403, f"policy does not allow {route.rule}") from None
        if route.schema is not None:
            kwargs["body"] = _validated_body(route.schema)
        kwargs["context"] = ctx
        result = route.view(**kwargs)
        if result is None:
            return flask.Response(status=204)
        return flask.jsonify(result), route.status

    view.__name__ = route.view.__name__
    return view


def _validated_body(schema: dict) -> Any:
    body = flask.request.get_json(silent=True)
    if body is None:
        raise APIError(400, "request body must be a JSON document")
    errors = list(jsonschema.validators.validator_for(schema)(schema).iter_errors(body))
    if errors:
        # A plain error (driver not in its enum) says more than a failed oneOf does.
        plain = [e for e in errors if e.validator not in ("oneOf", "anyOf")]
        # best_match would itself descend into a oneOf's branches, by relevance only.
        exc = (jsonschema.exceptions.best_match(plain) if plain
               else _named_branch_error(errors[0]))
        where = "/".join(shorten(str(p), 60) for p in exc.absolute_path)
        place = f" at {where}" if where else ""
        # jsonschema quotes the whole invalid value: quote at most its start.
        value = repr(exc.instance)
        message = exc.message.replace(value, shorten(value, 60)) if value else exc.message
        raise APIError(400, f"invalid body{place}: {message}") from None
    return body


def _named_branch_error(error: jsonschema.ValidationError) -> jsonschema.ValidationError:
    """For a ``oneOf`` whose branches each pin a property to one value (``driver: ssh``),
    the error inside the branch the body names ("'on' is a required property"), rather
    than "is not valid under any of the given schemas"."""
    if error.validator != "oneOf" or not error.context:
        return error
    mismatched = {e.schema_path[0] for e in error.context
                  if e.validator == "enum" and len(e.validator_value) == 1}
    named = [e for e in error.context if e.schema_path[0] not in mismatched]
    return jsonschema.exceptions.best_match(named) or error if named else error


def shorten(text: str, limit: int = 100) -> str:
    """``text`` cut to ``limit`` characters, saying so: error replies quote user input."""
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text)} characters)"


def _context(noauth: bool) -> RequestContext:
    if noauth:
        return RequestContext("noauth", "noauth", ("admin",), is_admin=True)
    headers = flask.request.headers
    roles = tuple(r.strip() for r in headers.get("X-Roles", "").split(",") if r.strip())
    return RequestContext(headers.get("X-User-Id"), headers.get("X-Project-Id"), roles,
                          system_scope=headers.get("OpenStack-System-Scope") or None,
                          is_admin="admin" in roles)


def _error(status: int, message: str) -> Any:
    return flask.jsonify({"error": {"code": status,
                                    "message": shorten(message, MAX_ERROR_MESSAGE)}}), status


def extension(name: str) -> Any:
    return flask.current_app.extensions[name]
