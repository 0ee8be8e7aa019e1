"""Balancing routes of the CloudManager API (registered on the same ``API`` as the others).

A dry run, the snapshot a plan can be made from offline, a run (asynchronous: returns the
task, followed at /v1/tasks/{id}), and the aggregate's balancing flag. Unknown aggregate:
404; not flagged or already running: 409; Nova failing: 502.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from aos.api.app import APIError, RequestContext
from aos.api.policy import operation
from cloud_manager import balancer
from cloud_manager.api.policies import ADMIN, READER, RULES
from cloud_manager.api.routes import API, _by, _errors, _runtime
from cloud_manager.nova import NovaError

RULES.extend([
    operation("cloud_manager:balancing:plan", READER,
              "Show the live migrations a balancing run would make and the loads after.",
              "GET", "/v1/balancing/{aggregate}/plan"),
    operation("cloud_manager:balancing:snapshot", READER,
              "Export an aggregate's balancing inputs (for planning offline).",
              "GET", "/v1/balancing/{aggregate}/snapshot"),
    operation("cloud_manager:balancing:run", ADMIN, "Balance a flagged aggregate now.",
              "POST", "/v1/balancing/{aggregate}/run"),
    operation("cloud_manager:balancing:flag", ADMIN,
              "Flag a host aggregate for balancing, or remove the flag.",
              "PUT", "/v1/aggregates/{aggregate}/balancing"),
])


@contextlib.contextmanager
def _errors_and_nova() -> Iterator[None]:
    try:
        with _errors():
            yield
    except NovaError as exc:
        raise APIError(502, f"OpenStack answered: {exc}") from None


@API.route("/v1/balancing/{aggregate}/plan", rule="cloud_manager:balancing:plan",
           summary="Dry run: the migrations of a balancing run now and each host's RAM load "
           "before and after.")
def plan(context: RequestContext, aggregate: str) -> dict[str, Any]:
    with _errors_and_nova():
        return balancer.preview(_runtime(), aggregate)


@API.route("/v1/balancing/{aggregate}/snapshot", rule="cloud_manager:balancing:snapshot",
           summary="The aggregate's balancing inputs as a snapshot for offline planning.")
def snapshot(context: RequestContext, aggregate: str) -> dict[str, Any]:
    with _errors_and_nova():
        return balancer.export(_runtime(), aggregate)


RUN_SCHEMA: dict[str, Any] = {"type": "object", "additionalProperties": False}


@API.route("/v1/balancing/{aggregate}/run", "POST", rule="cloud_manager:balancing:run",
           summary="Balance a flagged aggregate (asynchronous: returns the task).",
           schema=RUN_SCHEMA, status=202)
def run(context: RequestContext, body: dict[str, Any], aggregate: str) -> dict[str, Any]:
    with _errors_and_nova():
        return balancer.request_run(_runtime(), aggregate, _by(context))


FLAG_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"enabled": {"type": "boolean"}},
    "required": ["enabled"],
    "additionalProperties": False,
}


@API.route("/v1/aggregates/{aggregate}/balancing", "PUT", rule="cloud_manager:balancing:flag",
           summary="Flag a host aggregate for balancing (metadata balancing=yes) or not.",
           schema=FLAG_SCHEMA)
def set_flag(context: RequestContext, body: dict[str, Any], aggregate: str) -> dict[str, Any]:
    with _errors_and_nova():
        return balancer.set_flag(_runtime(), aggregate, body["enabled"], _by(context))
