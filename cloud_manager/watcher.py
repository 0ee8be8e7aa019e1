"""OpenStack Watcher (the DRS of ``[drs]``): its action plans, their actions and audits, and
the one state change AOS makes (taking a plan: ``CANCELLED`` in Watcher).

Endpoint: ``http://[drs] host:port`` when ``host`` is set, else ``infra-optim`` in the
Keystone catalog. Credentials: ``[drs] username/password`` (else the ``[openstack]`` service
user) in ``[openstack]``'s project and domains, through Keystone; every request is bounded by
``[openstack] timeout``. Any failure to get an answer is a ``WatcherError`` with one line.
"""

from __future__ import annotations

from typing import Any

from keystoneauth1 import exceptions as ks_exceptions
from keystoneauth1 import session as ks_session
from keystoneauth1.identity import v3
from oslo_config import cfg

from cloud_manager.drs.action_plan import ActionPlan, WatcherAction

SERVICE_TYPE = "infra-optim"
# Watcher answers a taken plan's cancel with its new state; nothing else is patched.
CANCELLED = "CANCELLED"
# Watcher's list pages; more than this many action plans in one state is not expected.
PAGE_LIMIT = 1000


class WatcherError(Exception):
    def __init__(self, message: str, status_code: int | None = None) -> None:
        super().__init__(message)
        self.status_code = status_code


class WatcherConfigError(WatcherError):
    """``[drs]`` / ``[openstack]`` do not say how to reach Watcher."""


def _endpoint(conf: cfg.ConfigOpts) -> str | None:
    drs = conf.drs
    return f"http://{drs.host}:{drs.port}" if drs.host else None


def connect(conf: cfg.ConfigOpts) -> Watcher:
    """A Watcher client from the configuration (no request is made yet)."""
    from watcherclient import client as watcher_client

    section = conf.openstack
    username = conf.drs.username or section.username
    password = conf.drs.password if conf.drs.username else section.password
    if not section.auth_url or not password:
        raise WatcherConfigError("[openstack] auth_url and [drs] password (or [openstack] "
                                 "password) must be set to reach Watcher")
    auth = v3.Password(auth_url=section.auth_url, username=username, password=password,
                       project_name=section.project_name,
                       user_domain_name=section.user_domain_name,
                       project_domain_name=section.project_domain_name)
    session = ks_session.Session(auth=auth, verify=section.cafile or True,
                                 timeout=section.timeout)
    endpoint = _endpoint(conf)
    try:
        if endpoint is None:
            endpoint = session.get_endpoint(service_type=SERVICE_TYPE,
                                            interface=section.interface,
                                            region_name=section.region_name)
    except ks_exceptions.ClientException as exc:
        raise WatcherError(f"cannot find Watcher ({SERVICE_TYPE}) in the Keystone "
                           f"catalog: {exc}") from None
    if not endpoint:
        raise WatcherConfigError(f"no {SERVICE_TYPE} endpoint in the Keystone catalog and "
                                 "[drs] host is not set")
    client = watcher_client.Client("1", endpoint=endpoint, session=session,
                                   max_retries=0, retry_interval=0,
                                   os_infra_optim_api_version="1.0")
    return Watcher(client, endpoint)


class Watcher:
    """The calls AOS makes to Watcher's v1 API."""

    def __init__(self, client: Any, endpoint: str) -> None:
        self.client, self.endpoint = client, endpoint

    def action_plans(self, state: str | None = None) -> list[ActionPlan]:
        """Action plans (in ``state`` if given) with their audit's state, without actions."""
        listed = self._call(lambda c: c.action_plan.list(limit=PAGE_LIMIT, detail=True))
        plans = [p for p in listed if state is None or p.state == state]
        audits = {}
        if plans:
            audits = {a.uuid: a.state for a in self._call(
                lambda c: c.audit.list(limit=PAGE_LIMIT, detail=True))}
        return [_plan(p, audits.get(p.audit_uuid), ()) for p in plans]

    def action_plan(self, uuid: str) -> ActionPlan:
        """One action plan with its actions; ``WatcherError`` 404 when there is none."""
        found = self._call(lambda c: c.action_plan.get(uuid))
        audit = self._call(lambda c: c.audit.get(found.audit_uuid)) if found.audit_uuid \
            else None
        actions = self._call(lambda c: c.action.list(action_plan=uuid, limit=PAGE_LIMIT,
                                                     detail=True))
        return _plan(found, audit.state if audit else None,
                     tuple(WatcherAction(a.uuid, a.action_type,
                                         dict(a.input_parameters or {}),
                                         tuple(a.parents or ())) for a in actions))

    def cancel(self, uuid: str) -> str:
        """Take the plan away from Watcher's applier (RECOMMENDED -> CANCELLED); its state."""
        patched = self._call(lambda c: c.action_plan.update(
            uuid, [{"op": "replace", "path": "/state", "value": CANCELLED}]))
        return patched.state

    def _call(self, request):
        from watcherclient.common.apiclient import exceptions as w_exceptions

        try:
            return request(self.client)
        except w_exceptions.HttpError as exc:
            raise WatcherError(f"Watcher at {self.endpoint} answered {exc.http_status}: "
                               f"{_message(exc)}", exc.http_status) from None
        except (ks_exceptions.ClientException, w_exceptions.ClientException) as exc:
            raise WatcherError(f"Watcher at {self.endpoint} unreachable: {exc}") from None


def _message(exc: Exception) -> str:
    return str(getattr(exc, "details", None) or getattr(exc, "message", None) or exc)


def _plan(found: Any, audit_state: str | None,
          actions: tuple[WatcherAction, ...]) -> ActionPlan:
    return ActionPlan(uuid=found.uuid, state=found.state, audit_uuid=found.audit_uuid or "",
                      audit_state=audit_state, strategy=getattr(found, "strategy_name", "") or "",
                      actions=actions)
