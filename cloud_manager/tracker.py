"""The node tracker: every ``loop_time`` it probes the compute nodes and acts on what changed.

It gathers evidence (I/O), lets the pure state machine and guards decide
(``cloud_manager.ha``), stores every transition, and hands evacuations to the workers as
durable tasks. Only the leader among controllers acts.

Between two loops it looks at Nova's heartbeats once more when a host's last report is about to
expire (with ``[nova_database] url``): a silent nova-compute is then noticed when its report
expires rather than up to ``loop_time`` later, and the ``mutex`` confirmations follow from there.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

from oslo_config import cfg

from cloud_manager import agent_report
from cloud_manager.db import api as db_api
from cloud_manager.execution.compute_restart import restart_through_agent
from cloud_manager.execution.host_actions import set_service_state
from cloud_manager.ha import (
    RECOVERABLE_STATES,
    EvacuationPolicy,
    NodeState,
    Probes,
    TrackerPolicy,
    decide_auto_evacuation,
    mark,
    observe,
)
from cloud_manager.ha.compute_restart import NodeView, computes_to_restart
from cloud_manager.ha.incident import IncidentDecision, PastTask, decide_auto_task
from cloud_manager.ha.recovery import return_to_service
from cloud_manager.heartbeat import Heartbeats
from cloud_manager.model.task_state import TaskKind
from cloud_manager.nodes import request_task
from cloud_manager.nova import ComputeService, NovaError
from cloud_manager.power import PowerError
from cloud_manager.runtime import Runtime

LOG = logging.getLogger(__name__)

# A report still counts at its expiry (service_timeout old); the tracker looks just after.
AFTER_EXPIRY = timedelta(seconds=0.05)


def tracker_policy(conf: cfg.ConfigOpts) -> TrackerPolicy:
    check = conf.extra_availability_check
    return TrackerPolicy(
        mutex=conf.node_tracker.mutex,
        mutex_up=conf.node_tracker.mutex_up,
        heartbeat_timeout=conf.node_tracker.heartbeat_timeout,
        instance_rate=check.instance_rate,
        storage_file_max_age=max(conf.node_tracker.heartbeat_timeout,
                                 check.delay * check.attempts),
    )


def evacuation_policy(conf: cfg.ConfigOpts) -> EvacuationPolicy:
    return EvacuationPolicy(
        max_down_hosts=conf.node_tracker.max_down_hosts,
        allow_evacuate_host=conf.host_tasks.allow_evacuate_host,
        deny_evacuate=frozenset(conf.host_tasks.deny_evacuate),
    )


class NodeTracker:
    def __init__(self, runtime: Runtime, dispatch: Callable[[str], None],
                 clock: Callable[[], float] = time.time,
                 still_leader: Callable[[], bool] = lambda: True,
                 in_background: Callable[[Callable[[], None]], object] | None = None) -> None:
        """``still_leader`` confirms the coordination lock before each acting step, so a
        tracker that lost it stops within its loop, not at the next one. ``in_background``
        runs the requests to node agents (each waits up to the agent's timeouts), so that no
        agent holds up the loop that watches the other nodes."""
        self.runtime = runtime
        self.still_leader = still_leader
        self.conf = runtime.conf
        self.dispatch = dispatch
        self.clock = clock
        self.policy = tracker_policy(self.conf)
        self.heartbeats = Heartbeats(self.conf)
        self._last_alert: str | None = None
        self._watched: dict[str, datetime] = {}
        # The last unexpected probe error per node, so that each is recorded once.
        self._probe_errors: dict[str, str] = {}
        # Per node, the last "not asked again" decision recorded as an event.
        self._announced: dict[str, str] = {}
        # Per node, when its agent was last asked to restart nova-compute (this tracker's).
        self._restart_asked: dict[str, float] = {}
        self._in_background = in_background or ThreadPoolExecutor(
            max_workers=2, thread_name_prefix="compute-restart").submit

    def check(self) -> None:
        """One loop: probe, decide, record, act."""
        now = self.clock()
        services = self._services()
        last_seen = self.heartbeats.last_seen()
        now_utc = db_api.from_timestamp(now)
        reporting_until = self.heartbeats.reporting_until(last_seen, now_utc)
        watched: dict[str, datetime] = {}
        views: list[NodeView] = []
        with self.runtime.transaction() as session:
            rows = db_api.ensure_nodes(session, sorted(services or {}))
            for row in rows.values():
                if row.maintenance or row.state == NodeState.MAINTENANCE:
                    continue
                service = (services or {}).get(row.hostname)
                # A host held dead comes back only with a report newer than that verdict.
                dead_since = (row.state_since if NodeState(row.state) in RECOVERABLE_STATES
                              else None)
                if services is None or service is None:
                    service_up = None
                else:
                    service_up = self.heartbeats.is_reporting(
                        service, last_seen, dead_since, now_utc)
                if service_up and row.state == NodeState.UP and row.hostname in reporting_until:
                    watched[row.hostname] = reporting_until[row.hostname]
                try:
                    probes = self._probes(session, row.hostname, service, service_up,
                                          dead_since, now)
                except Exception as exc:  # noqa: BLE001 - one node never blinds the loop
                    self._probe_failed(session, row.hostname, "probing the node", exc)
                    probes = Probes(service_up=None)  # unknown: no verdict this loop
                record, transition = observe(db_api.record_of(row), probes, self.policy, now)
                db_api.save_record(session, row, record, transition)
                if transition:
                    LOG.info("node %s", transition)
                if probes.service_up is False and probes.agent_heartbeat_at is not None:
                    views.append(NodeView(
                        row.hostname, record.state, probes,
                        taken_in_hand=bool(service and not service.enabled and not row.reserve)
                        or db_api.active_task(session, row.hostname) is not None))
        self._watched = watched
        for step in (self._evacuate_down_hosts,
                     lambda: self._recover_hosts(services or {}),
                     lambda: self._restart_silent_computes(views, now),
                     self._resume_orphaned_tasks):
            if not self.still_leader():
                LOG.error("no longer the leader: this loop stops here")
                return
            step()

    def seconds_to_next_expiry(self) -> float | None:
        """Seconds until the first report of a host that was up at the last check expires."""
        if not self._watched:
            return None
        expiry = min(self._watched.values()) + AFTER_EXPIRY
        return max(0.0, (expiry - db_api.from_timestamp(self.clock())).total_seconds())

    def reports_expired(self) -> list[str]:
        """Read the heartbeats again: hosts up at the last check whose report has expired."""
        last_seen = self.heartbeats.last_seen()
        if last_seen is None:
            self._watched = {}
            return []
        now_utc = db_api.from_timestamp(self.clock())
        reporting_until = self.heartbeats.reporting_until(last_seen, now_utc)
        expired = sorted(set(self._watched) - set(reporting_until))
        self._watched = {host: reporting_until[host] for host in self._watched
                         if host in reporting_until}
        return expired

    def _services(self) -> dict[str, ComputeService] | None:
        try:
            return {s.host: s for s in self.runtime.nova.compute_services()}
        except NovaError as exc:
            LOG.warning("cannot list nova-compute services: %s; no node changes state "
                        "this loop", exc)
            return None

    def _probes(self, session, host: str, service: ComputeService | None,
                service_up: bool | None, dead_since: datetime | None, now: float) -> Probes:
        report = None
        if self.conf.agent.enabled or self.conf.extra_availability_check.enabled:
            report = agent_report.read_report(
                self.conf.extra_availability_check.storage_path, host)
            if report and dead_since and report.written_at <= dead_since.replace(
                    tzinfo=UTC).timestamp():
                report = None
        power = None
        if service_up is False:
            power = self._power_state(session, host)
        return Probes(
            service_up=service_up,
            service_disabled=bool(service and not service.enabled),
            agent_heartbeat_at=report.written_at if report and self.conf.agent.enabled
            else None,
            power=power,
            storage_running_rate=report.running_rate
            if report and self.conf.extra_availability_check.enabled else None,
            storage_file_at=report.written_at if report else None,
        )

    def _power_state(self, session, host: str) -> str | None:
        """The device's answer; None (unknown) when it has none or cannot be read."""
        device = db_api.power_device_of(session, host)
        if device is None:
            return None
        try:
            with self.runtime.power_driver(device) as driver:
                state = driver.power_state()
        except PowerError as exc:
            LOG.warning("cannot read the power state of %s: %s", host, exc)
            return None
        except Exception as exc:  # noqa: BLE001 - a broken device is this node's unknown
            self._probe_failed(session, host, f"reading power device {device.name}", exc)
            return None
        self._probe_errors.pop(host, None)
        return state

    def _probe_failed(self, session, host: str, what: str, exc: Exception) -> None:
        """Log a probe that failed in an unexpected way; an event when the error is new."""
        message = (f"{what} failed ({type(exc).__name__}: {exc}); its state is unknown "
                   "this loop, the other nodes are checked as usual")
        LOG.error("node %s: %s", host, message, exc_info=exc)
        if self._probe_errors.get(host) != message:
            self._probe_errors[host] = message
            db_api.add_event(session, host, "alert", message)

    def _evacuate_down_hosts(self) -> None:
        with self.runtime.transaction() as session:
            rows = db_api.nodes(session)
            down = {r.hostname for r in rows if r.state == NodeState.DOWN}
            if not down:
                self._last_alert = None
                return
            # Suspect hosts count toward max_down_hosts too: in a mass failure they are the
            # next ones to go down, and the first host must not be evacuated alone meanwhile.
            failing = sorted(down | {r.hostname for r in rows if r.state == NodeState.SUSPECT})
            decision = decide_auto_evacuation(
                failing, {r.hostname for r in rows if r.reserve}, evacuation_policy(self.conf),
                {r.hostname for r in rows if r.maintenance})
            if decision.alert and decision.alert != self._last_alert:
                LOG.error("%s", decision.alert)
                db_api.add_event(session, None, "alert", decision.alert)
            self._last_alert = decision.alert
            waiting = {}
            for row in rows:
                if (row.hostname not in decision.allowed or row.state != NodeState.DOWN
                        or db_api.active_task(session, row.hostname) is not None):
                    continue
                verdict = self._incident_decision(session, row)
                if verdict.request:
                    waiting[row.hostname] = verdict.reason
                elif self._announced.get(row.hostname) != verdict.reason:
                    self._announced[row.hostname] = verdict.reason
                    LOG.warning("node %s: %s", row.hostname, verdict.reason)
                    db_api.add_event(session, row.hostname, "warning", verdict.reason)
        for host, reason in sorted(waiting.items()):
            try:
                request_task(self.runtime, host, TaskKind.AUTOMATIC, reason=reason,
                             dispatch=self.dispatch)
            except db_api.Conflict:
                continue

    @staticmethod
    def _incident_decision(session, row) -> IncidentDecision:
        last = db_api.last_task(session, row.hostname)
        device = db_api.power_device_of(session, row.hostname)
        ts = db_api.to_timestamp
        return decide_auto_task(
            incident_since=ts(row.state_since),
            last=None if last is None else PastTask(
                last.id, last.state, last.message or "", ts(last.created_at),
                ts(last.finished_at) if last.finished_at else None),
            device=device.name if device else None,
            device_changed_at=ts(device.updated_at or device.created_at) if device else None)

    def _recover_hosts(self, services: dict[str, ComputeService]) -> None:
        """Give a host that came back to Nova again, once Nova has cleaned up after it."""
        with self.runtime.transaction() as session:
            recovering = [r.hostname for r in db_api.nodes(session)
                          if r.state == NodeState.RECOVERING]
        for host in recovering:
            service = services.get(host)
            if service is None:
                continue
            try:
                if self.runtime.nova.unfinished_evacuations_from(host):
                    LOG.info("node %s is back; waiting for its nova-compute to clean up "
                             "evacuated instances", host)
                    continue
                with self.runtime.transaction() as session:
                    reserve = db_api.node(session, host).reserve
                steps = return_to_service(host, service.forced_down, reserve)
                up = service.up
                if steps.unforce is not None:
                    set_service_state(self.runtime.nova, steps.unforce)
                    up = self.runtime.nova.service(host).up
                if not up:
                    LOG.info("node %s: waiting for Nova to see its nova-compute up before "
                             "enabling it", host)
                    continue
                set_service_state(self.runtime.nova, steps.back)
            except NovaError as exc:
                LOG.info("node %s not returned to Nova yet: %s", host, exc)
                continue
            with self.runtime.transaction() as session:
                row = db_api.node(session, host)
                where = "reserve pool" if reserve else "service"
                record, transition = mark(db_api.record_of(row), NodeState.UP,
                                          f"back in {where}: force_down unset", self.clock())
                db_api.save_record(session, row, record, transition)
                LOG.info("node %s", transition)

    def _restart_silent_computes(self, views: list[NodeView], now: float) -> None:
        """Ask the agents of nodes whose nova-compute is down while they are alive to
        restart it; each request runs in the background and ends as an event."""
        if not self.conf.agent.enabled:
            return
        for restart in computes_to_restart(views, self._restart_asked, now,
                                           self.conf.agent.restart_compute_interval,
                                           self.policy.heartbeat_timeout):
            self._restart_asked[restart.host] = now
            LOG.warning("node %s: %s; asking its agent to restart nova-compute", restart.host,
                        restart.reason)
            self._in_background(
                lambda restart=restart: restart_through_agent(self.runtime, restart))

    def _resume_orphaned_tasks(self) -> None:
        with self.runtime.transaction() as session:
            orphaned = db_api.take_orphaned_tasks(session, self.conf.host_tasks.task_lease_time)
        for task_id in orphaned:
            LOG.warning("task %s has no live worker; dispatching it again", task_id)
            self.dispatch(task_id)


def run_forever(tracker: NodeTracker, is_leader: Callable[[], bool],
                stop: Callable[[], bool] = lambda: False,
                sleep: Callable[[float], None] = time.sleep,
                monotonic: Callable[[], float] = time.monotonic) -> None:
    loop_time = tracker.conf.node_tracker.loop_time
    while not stop():
        next_check = monotonic() + loop_time
        if is_leader():
            try:
                tracker.check()
            except Exception:
                LOG.exception("node tracker loop failed; retrying in %ss", loop_time)
            _wait_watching_reports(tracker, next_check, sleep, monotonic)
        else:
            sleep(max(0.0, next_check - monotonic()))


def _wait_watching_reports(tracker: NodeTracker, next_check: float,
                           sleep: Callable[[float], None],
                           monotonic: Callable[[], float]) -> None:
    """Sleep until ``next_check``, or until a host's report expires before it."""
    while (left := next_check - monotonic()) > 0:
        expiry_in = tracker.seconds_to_next_expiry()
        if expiry_in is None or expiry_in >= left:
            sleep(left)
            return
        sleep(expiry_in)
        expired = tracker.reports_expired()
        if expired:
            LOG.info("nova-compute of %s has not reported for %ss; checking the nodes now, "
                     "%.1fs before the next loop", ", ".join(expired),
                     tracker.heartbeats.timeout, max(0.0, next_check - monotonic()))
            return
