"""DRS routes of the CloudManager API: Watcher's recommended action plans with what AOS
would do of each, and a manual apply (asynchronous: returns the task, followed at
/v1/tasks/{id}). No such plan (or not a UUID): 404; not applicable or taken already: 409;
Watcher not configured: 503; Watcher or Nova failing: 502.
"""

from __future__ import annotations

import contextlib
import uuid as uuid_lib
from collections.abc import Iterator
from typing import Any

from aos.api.app import APIError, RequestContext
from aos.api.policy import operation
from cloud_manager import drs_trigger, watcher
from cloud_manager.api.balancing import _errors_and_nova
from cloud_manager.api.policies import ADMIN, READER, RULES
from cloud_manager.api.routes import API, _by, _runtime

RULES.extend([
    operation("cloud_manager:drs:plans", READER,
              "List Watcher's recommended action plans and the migrations AOS would run.",
              "GET", "/v1/drs/plans"),
    operation("cloud_manager:drs:apply", ADMIN,
              "Apply a recommended Watcher action plan's live migrations now.",
              "POST", "/v1/drs/plans/{plan}/apply"),
])


@contextlib.contextmanager
def _errors_and_remotes() -> Iterator[None]:
    try:
        with _errors_and_nova():
            yield
    except watcher.WatcherConfigError as exc:
        raise APIError(503, f"DRS is not configured: {exc}") from None
    except watcher.WatcherError as exc:
        raise APIError(502, str(exc)) from None


@API.route("/v1/drs/plans", rule="cloud_manager:drs:plans",
           summary="Watcher's RECOMMENDED action plans, each with the live migrations AOS "
           "would run, what it refuses and the task that took it.")
def plans(context: RequestContext) -> dict[str, Any]:
    with _errors_and_remotes():
        return {"action_plans": drs_trigger.preview(_runtime())}


APPLY_SCHEMA: dict[str, Any] = {"type": "object", "additionalProperties": False}


@API.route("/v1/drs/plans/{plan}/apply", "POST", rule="cloud_manager:drs:apply",
           summary="Apply a RECOMMENDED action plan's live migrations (asynchronous: returns "
           "the task).", schema=APPLY_SCHEMA, status=202)
def apply(context: RequestContext, body: dict[str, Any], plan: str) -> dict[str, Any]:
    try:
        uuid = str(uuid_lib.UUID(plan))
    except ValueError:  # names no plan, like any unknown one (Watcher's plans are UUIDs)
        raise APIError(404, f"no Watcher action plan {plan!r}: action plans are named by "
                       "UUID") from None
    with _errors_and_remotes():
        return drs_trigger.request_apply(_runtime(), uuid, _by(context))
