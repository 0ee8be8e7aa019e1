"""Host evacuation as a durable task: fence, plan, evacuate by priority, record every step.

A task moves pending → fencing → evacuating → done | partial | failed | aborted, and each
instance has an item pending → requested → done | failed (or unplaced / skipped). The item is
marked ``requested`` *before* Nova is asked, and a resumed task asks Nova's migration records
whether the request went through, so a worker killed at any point resumes without evacuating
an instance twice.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import groupby

import sqlalchemy as sa

from cloud_manager import agent_report
from cloud_manager.db import api as db_api
from cloud_manager.db.models import Task, TaskItem, utcnow
from cloud_manager.ha import (
    EvacuationPlan,
    Instance,
    InvalidTransition,
    NodeState,
    Strategy,
    TargetHost,
    mark,
    plan_evacuation,
    resolve_priority,
)
from cloud_manager.heartbeat import Heartbeats
from cloud_manager.nova import Evacuation, NovaError
from cloud_manager.power import PowerDriver, PowerError
from cloud_manager.runtime import Runtime

LOG = logging.getLogger(__name__)

AUTOMATIC = "auto-evacuation"
MANUAL = "manual-evacuation"
SHUTDOWN = "planned-shutdown"
KINDS = (AUTOMATIC, MANUAL, SHUTDOWN)
SETTLED_STATUSES = ("ACTIVE", "SHUTOFF", "PAUSED", "SUSPENDED")
CLOCK_SKEW_MARGIN = timedelta(minutes=10)
# BMCs answer in milliseconds; a host switched off is usually reported off at the next read.
POWER_CHECK_INTERVAL = 0.25


@dataclass(frozen=True)
class Plan:
    """An evacuation plan with what storing it needs: the warnings found while reading the
    instances, and the node's newest Nova evacuation record before any request of this task."""

    host: str
    evacuation: EvacuationPlan
    warnings: list[str]
    nova_migration_mark: int | None


class TaskAborted(Exception):
    """The task must stop without evacuating (e.g. the host cannot be proven dead)."""


def request_evacuation(runtime: Runtime, hostname: str, strategy: str, reason: str,
                       kind: str = AUTOMATIC,
                       dispatch: Callable[[str], None] | None = None) -> dict:
    """Create the durable task and hand it to a worker; returns the task's summary.

    ``kind`` is AUTOMATIC (the tracker found the node down), MANUAL (an operator evacuates a
    node) or SHUTDOWN (an operator shuts a running node down through its power device and
    its instances are evacuated once it is off).
    """
    Strategy(strategy)
    if kind not in KINDS:
        raise ValueError(f"unknown task kind {kind!r}")
    with runtime.transaction() as session:
        node = db_api.node(session, hostname)
        if node.maintenance:
            raise db_api.Conflict(f"node {hostname!r} is in maintenance: CloudManager does "
                                  "not act on it; turn maintenance off first")
        if kind == SHUTDOWN and db_api.power_device_of(session, hostname) is None:
            raise db_api.Conflict(f"node {hostname!r} has no power device: CloudManager "
                                  "cannot shut it down")
        task = db_api.create_task(session, hostname=hostname, kind=kind,
                                  strategy=strategy, reason=reason)
        what = "shutdown with evacuation" if kind == SHUTDOWN else "evacuation"
        db_api.add_event(session, hostname, "action",
                         f"{what} requested ({task.kind}, {strategy}): {reason}; "
                         f"task {task.id}")
        summary = {"id": task.id, "kind": task.kind, "hostname": hostname,
                   "state": task.state, "strategy": strategy, "reason": reason}
    LOG.info("node %s: evacuation task %s created (%s)", hostname, summary["id"], reason)
    try:
        (dispatch or runtime.dispatch_task)(summary["id"])
    except Exception as exc:  # noqa: BLE001 - the task is durable; the tracker re-dispatches it
        LOG.warning("task %s stored but not queued (%s); the node tracker will queue it",
                    summary["id"], exc)
    return summary


class Evacuator:
    """Runs one evacuation task to its end; safe to run again on a half-done task."""

    def __init__(self, runtime: Runtime, owner: str, clock: Callable[[], float] = time.time,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.runtime = runtime
        self.conf = runtime.conf
        self.owner = owner
        self.clock = clock
        self.sleep = sleep
        self.nova = runtime.nova
        self.lease = timedelta(seconds=self.conf.host_tasks.task_lease_time)
        self.heartbeats = Heartbeats(self.conf)

    # --- driver ----------------------------------------------------------------------------

    def run(self, task_id: str) -> str | None:
        with self.runtime.transaction() as session:
            try:
                task = db_api.claim_task(session, task_id, self.owner, self.lease)
            except db_api.NotFound:
                # A queued message outlived its row (database restored or recreated).
                LOG.warning("task %s is not in the database; message dropped", task_id)
                return None
            if task is None:
                LOG.info("task %s is final or held by another worker; skipping", task_id)
                return None
            state, host, kind, created_at = task.state, task.hostname, task.kind, task.created_at
        LOG.info("task %s: %s of node %s (resuming from %s)", task_id, kind, host, state)
        renewer = _LeaseRenewer(self, task_id)
        renewer.start()
        try:
            if state in ("pending", "fencing"):
                plan = self._fence_and_plan(task_id, host, kind)
            else:
                plan = self._read_plan(task_id)
            self._store_plan(task_id, plan)
            self._evacuate(task_id, host, created_at)
            return self._finish(task_id)
        except TaskAborted as exc:
            return self._end(task_id, "aborted", str(exc), alert=True)
        except (PowerError, NovaError, InvalidTransition) as exc:
            LOG.exception("task %s failed", task_id)
            return self._end(task_id, "failed", str(exc), alert=True)
        finally:
            renewer.stop()

    # --- fencing ---------------------------------------------------------------------------

    def _isolate_node(self, task_id: str, host: str, kind: str) -> str:
        """Power the node off (or prove it dead) through its device; returns how."""
        self._update_task(task_id, state="fencing", message="fencing the node")
        with self.runtime.transaction() as session:
            device = db_api.power_device_of(session, host)
            driver = self.runtime.power_driver(device) if device else None
            device_name = device.name if device else None
        with driver or contextlib.nullcontext():
            return self._isolate(task_id, host, kind, driver, device_name)

    def _mark_fenced(self, task_id: str, host: str, kind: str, how: str) -> None:
        """Record the isolated node as fenced and tell Nova, so it accepts evacuations."""
        why = {MANUAL: "operator requested evacuation", SHUTDOWN: "planned shutdown"}.get(
            kind, "automatic evacuation")
        self._move_node(host, NodeState.DOWN, f"{why}: {how}", only_from=(
            NodeState.UP, NodeState.SUSPECT, NodeState.RECOVERING))
        self.nova.force_down_and_disable(host, f"aos: fenced by task {task_id}")
        self._move_node(host, NodeState.FENCED, f"{how}; nova-compute forced down")
        self._update_task(task_id, state="evacuating", message=f"fenced: {how}")

    def _isolate(self, task_id: str, host: str, kind: str, driver: PowerDriver | None,
                 device_name: str | None) -> str:
        """Power the node off (or prove it dead); returns how, for the node's history."""
        if kind == SHUTDOWN:
            if driver is None:
                raise TaskAborted(f"cannot shut {host} down: it has no power device")
            return self._shut_down(task_id, host, driver, device_name)
        if driver is not None:
            if self.conf.node_tracker.allow_host_auto_power_off and kind == AUTOMATIC:
                self._try_power_cycle(task_id, host, driver)
            self._power_off(host, driver)
            return f"powered off through power device {device_name}"
        if self.conf.extra_availability_check.enabled:
            return self._prove_dead_through_storage(host)
        if kind == MANUAL:
            return "no power device; fencing skipped on the operator's request"
        raise TaskAborted(
            f"cannot fence {host}: it has no power device and [extra_availability_check] "
            "is disabled, so it may still run its instances; power it off and evacuate "
            "it manually (openstack aos node evacuate)")

    def _power_off(self, host: str, driver: PowerDriver) -> None:
        """Power off and verify: a host is fenced only once its device reports it off."""
        driver.power_off()
        checks = self.conf.host_tasks.retries_wait_for_node_state
        state = _wait_for_power_off(driver, host, checks, POWER_CHECK_INTERVAL, self.sleep)
        if state != "off":
            raise PowerError(f"{host} still reports power {state} after {checks} checks "
                             f"{POWER_CHECK_INTERVAL}s apart ([host_tasks] "
                             "retries_wait_for_node_state)")

    def _shut_down(self, task_id: str, host: str, driver: PowerDriver, device: str) -> str:
        """Planned shutdown: let the OS stop cleanly, checking its power state every
        ``[power] shutdown_interval`` seconds; after ``shutdown_max_tick`` checks switch the
        power off, since the operator asked for the node to be off and its instances moved."""
        interval, ticks = self.conf.power.shutdown_interval, self.conf.power.shutdown_max_tick
        try:
            driver.power_soft_off()
        except PowerError as exc:
            LOG.warning("task %s: soft power-off of %s failed (%s); powering it off",
                        task_id, host, exc)
            fallback = f"soft power-off failed: {exc}"
        else:
            self._update_task(task_id, message=f"shutting down: power state checked every "
                              f"{interval}s, at most {ticks} times")
            state = _wait_for_power_off(driver, host, ticks, interval, self.sleep)
            if state == "off":
                return f"shut down cleanly through power device {device}"
            fallback = f"still on after {ticks} checks {interval}s apart"
            LOG.warning("task %s: %s is %s; powering it off", task_id, host, fallback)
        self._power_off(host, driver)
        return f"powered off through power device {device} ({fallback})"

    def _try_power_cycle(self, task_id: str, host: str, driver) -> None:
        timeout = self.conf.node_tracker.host_restart_timeout
        self._update_task(task_id, message=f"power-cycling, waiting up to {timeout}s for it")
        driver.power_cycle()
        deadline = self.clock() + timeout
        while self.clock() < deadline:
            if self._service_reporting(host):
                raise TaskAborted(f"{host} came back after a power cycle; not evacuated")
            self.sleep(self.conf.host_tasks.poll_interval)

    def _prove_dead_through_storage(self, host: str) -> str:
        check = self.conf.extra_availability_check
        first = agent_report.read_report(check.storage_path, host)
        for _ in range(check.attempts):
            self.sleep(check.delay)
            latest = agent_report.read_report(check.storage_path, host)
            if latest and first and latest.written_at > first.written_at:
                raise TaskAborted(
                    f"{host} is alive: its instance-state file is still being written "
                    f"({latest.running_rate:g}% of instances running); not evacuated")
        if first is None:
            raise TaskAborted(f"cannot prove {host} dead: no instance-state file in "
                              f"{check.storage_path}; not evacuated")
        age = self.clock() - first.written_at
        return f"instance-state file unchanged for {age:.0f}s ({check.attempts} checks)"

    def _service_reporting(self, host: str, usable_by_nova: bool = False) -> bool:
        """Used for hosts CloudManager has not forced down (power cycle, reserve nodes).

        ``usable_by_nova``: also up in Nova's eyes, as a host must be before it is enabled.
        """
        service, last_seen = self.nova.service(host), self.heartbeats.last_seen()
        now = datetime.now(UTC).replace(tzinfo=None)
        if usable_by_nova:
            return self.heartbeats.usable_by_nova(service, last_seen, now)
        return self.heartbeats.is_reporting(service, last_seen, None, now)

    # --- planning --------------------------------------------------------------------------

    def _fence_and_plan(self, task_id: str, host: str, kind: str) -> Plan | None:
        """Fence the node, then plan while Nova is told it is fenced.

        The node is isolated before this task starts other threads: while another thread
        keeps the interpreter busy, pyghmi's I/O thread can take a BMC's reply before the
        call waiting for it is registered, and that call then waits for its 0.5-1 s
        retransmit timer (12 of 30 IPMI uses with one busy thread, none without). Planning
        once the node is off also sees what really stayed on it after a power cycle or a
        planned shutdown.
        """
        how = self._isolate_node(task_id, host, kind)
        with ThreadPoolExecutor(max_workers=1) as pool:
            planning = pool.submit(self._read_plan, task_id)
            self._mark_fenced(task_id, host, kind, how)
            return planning.result()

    def _read_plan(self, task_id: str) -> Plan | None:
        """The evacuation plan of a task that has none yet (None when it has one)."""
        with self.runtime.transaction() as session:
            task = db_api.task(session, task_id)
            if task.items:
                return None
            host, strategy = task.hostname, Strategy(task.strategy)
            nodes = {n.hostname: n for n in db_api.nodes(session)}
            devices = {d.hostname for d in db_api.power_devices(session) if d.hostname}
        default = self.conf.host_tasks.recovery_priority
        with ThreadPoolExecutor(max_workers=5) as pool:  # independent reads, at once
            zones = pool.submit(self.nova.host_zones)
            servers = pool.submit(self.nova.servers_on_host, host)
            capacities = pool.submit(self.nova.capacities)
            services = pool.submit(self.nova.compute_services)
            migration_mark = pool.submit(self.nova.newest_evacuation_id, host)
            last_seen = self.heartbeats.last_seen()
        zones, capacities = zones.result(), capacities.result()
        instances, warnings = [], []
        for server in servers.result():
            priority = resolve_priority(server.metadata, server.flavor_extra_specs, default)
            if priority.warning:
                warnings.append(f"{server.id}: {priority.warning}")
            instances.append(Instance(id=server.id, name=server.name, host=host,
                                      priority=priority.value, ram_mb=server.ram_mb,
                                      vcpus=server.vcpus, disk_gb=server.disk_gb,
                                      az=server.az or None))
        now = datetime.now(UTC).replace(tzinfo=None)
        targets = []
        for service in services.result():
            node = nodes.get(service.host)
            capacity = capacities.get(service.host)
            if service.host == host or capacity is None or (node and node.maintenance):
                continue
            reserve = bool(node and node.reserve)
            usable = self.heartbeats.usable_by_nova(service, last_seen, now)
            targets.append(TargetHost(
                name=service.host, free_ram_mb=capacity.free_ram_mb,
                free_vcpus=capacity.free_vcpus, free_disk_gb=capacity.free_disk_gb,
                reserve=reserve, enabled=service.enabled,
                up=usable or (reserve and service.host in devices),
                az=zones.get(service.host)))
        return Plan(host=host, evacuation=plan_evacuation(instances, targets, strategy, {host}),
                    warnings=warnings, nova_migration_mark=migration_mark.result())

    def _store_plan(self, task_id: str, plan: Plan | None) -> None:
        """Store the plan as the task's items, then power on and enable the reserve nodes
        it uses."""
        if plan is None:
            return
        host, evacuation = plan.host, plan.evacuation
        items = [TaskItem(instance_id=p.instance.id, instance_name=p.instance.name,
                          priority=p.instance.priority, target_host=p.target_host,
                          pool=str(p.pool), state="pending")
                 for group in evacuation.groups for p in group.placements]
        items += [TaskItem(instance_id=u.instance.id, instance_name=u.instance.name,
                           priority=u.instance.priority, state="unplaced", message=u.reason)
                  for u in evacuation.unplaced]
        items += [TaskItem(instance_id=s.instance.id, instance_name=s.instance.name,
                           priority=s.instance.priority, state="skipped", message=s.reason)
                  for s in evacuation.skipped]
        summary = (f"{sum(len(g.placements) for g in evacuation.groups)} to evacuate in "
                   f"{len(evacuation.groups)} priority group(s), {len(evacuation.unplaced)} "
                   f"do not fit, {len(evacuation.skipped)} skipped")
        with self.runtime.transaction() as session:
            task = db_api.task(session, task_id)
            db_api.add_items(session, task, items)
            task.message = summary
            task.nova_migration_mark = plan.nova_migration_mark
            for warning in plan.warnings:
                db_api.add_event(session, host, "warning", warning)
            if evacuation.unplaced:
                db_api.add_event(session, host, "alert", f"task {task_id}: "
                                 f"{len(evacuation.unplaced)} instance(s) do not fit anywhere: "
                                 + "; ".join(f"{u.instance.id}: {u.reason}"
                                             for u in evacuation.unplaced[:10]))
        LOG.info("task %s: plan for %s: %s", task_id, host, summary)
        for reserve_host in evacuation.reserve_hosts_used:
            self._activate_reserve(reserve_host)

    def _activate_reserve(self, host: str) -> None:
        """Power on (if needed) and enable a reserve node so the scheduler accepts it."""
        with self.runtime.transaction() as session:
            device = db_api.power_device_of(session, host)
            driver = self.runtime.power_driver(device) if device else None
        if driver is not None:
            with driver:
                if driver.power_state() == "off":
                    driver.power_on()
        deadline = self.clock() + 60 * self.conf.node_tracker.timeout_reserv_node_up
        while not self._service_reporting(host, usable_by_nova=True):
            if self.clock() > deadline:
                raise NovaError(f"reserve node {host} did not come up in "
                                f"{self.conf.node_tracker.timeout_reserv_node_up} minutes")
            self.sleep(self.conf.host_tasks.poll_interval)
        self.nova.set_enabled(host, True)
        with self.runtime.transaction() as session:
            node = db_api.node(session, host)
            node.reserve = False
            db_api.add_event(session, host, "action",
                             "reserve node enabled in Nova to receive evacuated instances")
        LOG.info("reserve node %s enabled for evacuation", host)

    # --- evacuation ------------------------------------------------------------------------

    def _evacuate(self, task_id: str, host: str, created_at: datetime) -> None:
        # Nova stamps its records with its own clock: changes-since only keeps listings short,
        # with room for a controller's clock being ahead; the task's mark tells which are ours.
        self._polling_since = created_at - CLOCK_SKEW_MARGIN
        with self.runtime.transaction() as session:
            self._mark = db_api.task(session, task_id).nova_migration_mark or 0
        self._move_node(host, NodeState.EVACUATING, f"evacuation task {task_id} running",
                        only_from=(NodeState.FENCED,))
        pending = self._items(task_id, ("pending", "requested"))
        self._reconcile_requested(host, pending)
        timeout = self.conf.host_tasks.prioritized_evacuation_timeout
        in_flight: dict[str, int] = {}
        for priority, group in groupby(pending, key=lambda i: i.priority):
            waiting = [item.instance_id for item in group]
            group_ids = list(waiting)
            LOG.info("task %s: evacuating %d instance(s) of priority %d", task_id,
                     len(group_ids), priority)
            self._send_more(task_id, waiting, in_flight)
            deadline = self.clock() + timeout
            # The next group starts once this one is active, or after the timeout -- but never
            # before all of this one's requests went out.
            while self._poll(task_id, host, in_flight) or waiting:
                self._send_more(task_id, waiting, in_flight)
                if not waiting and (self.clock() >= deadline
                                    or not any(i in in_flight for i in group_ids)):
                    break
                self.sleep(self.conf.host_tasks.poll_interval)
        while self._poll(task_id, host, in_flight):
            self.sleep(self.conf.host_tasks.poll_interval)

    def _send_more(self, task_id: str, waiting: list[str], in_flight: dict[str, int]) -> None:
        """Request evacuations from ``waiting`` up to ``max_parallel_evacuations`` in flight."""
        cap = self.conf.host_tasks.max_parallel_evacuations
        room = len(waiting) if cap == 0 else max(cap - len(in_flight), 0)
        batch, waiting[:] = waiting[:room], waiting[room:]
        if batch:
            self._request(task_id, batch)
            in_flight.update(dict.fromkeys(batch, 0))

    def _reconcile_requested(self, host: str, items: list[TaskItem]) -> None:
        """After a restart: a ``requested`` item whose request never reached Nova is pending."""
        if not any(item.state == "requested" for item in items):
            return
        ours = self._evacuations_of_this_task(host)
        for item in items:
            if item.state != "requested" or item.instance_id in ours:
                continue
            LOG.info("instance %s: evacuation was never sent; sending it now", item.instance_id)
            self._update_item(item.task_id, item.instance_id, state="pending")
            item.state = "pending"

    def _evacuations_of_this_task(self, host: str) -> dict[str, Evacuation]:
        """Latest evacuation record per instance, among those Nova created for this task."""
        return {instance_id: evacuation for instance_id, evacuation
                in self.nova.evacuations_from(host, self._polling_since).items()
                if evacuation.id > self._mark}

    def _request(self, task_id: str, instance_ids: list[str]) -> None:
        to_send = [i for i in self._items(task_id, ("pending",)) if i.instance_id in instance_ids]
        for item in to_send:
            self._update_item(task_id, item.instance_id, state="requested",
                              attempts=item.attempts + 1, message=None)

        def send(item: TaskItem) -> None:
            try:
                self.nova.evacuate(item.instance_id, item.target_host)
            except NovaError as exc:
                retry = item.attempts + 1 < self.conf.host_tasks.evacuation_retries
                self._update_item(task_id, item.instance_id,
                                  state="pending" if retry else "failed", message=str(exc))

        with ThreadPoolExecutor(max_workers=self.conf.host_tasks.evacuation_request_threads
                                ) as pool:
            list(pool.map(send, to_send))

    def _poll(self, task_id: str, host: str, in_flight: dict[str, int]) -> bool:
        """Check in-flight instances once; True while some are still moving."""
        for item in self._items(task_id, ("done", "failed")):
            in_flight.pop(item.instance_id, None)
        retry = [i.instance_id for i in self._items(task_id, ("pending",))
                 if i.instance_id in in_flight]
        if retry:
            self._request(task_id, retry)
        evacuations = self._evacuations_of_this_task(host)
        for item in self._items(task_id, ("requested",)):
            if item.instance_id not in in_flight:
                continue
            outcome, where = self._outcome(evacuations.get(item.instance_id), host)
            in_flight[item.instance_id] += 1
            if outcome == "done":
                self._update_item(task_id, item.instance_id, state="done", message=where)
            elif outcome in ("error", "gone") or (
                    in_flight[item.instance_id] > self.conf.host_tasks.retries_wait_for_vm_status):
                again = (outcome == "error" and
                         item.attempts < self.conf.host_tasks.evacuation_retries)
                reason = {"gone": "server was deleted"}.get(
                    outcome, where or "timed out waiting for the server")
                self._update_item(task_id, item.instance_id,
                                  state="pending" if again else "failed", message=reason)
                in_flight[item.instance_id] = 0
        return bool(in_flight)

    def _outcome(self, evacuation: Evacuation | None, failed_host: str
                 ) -> tuple[str, str | None]:
        """("moving" | "done" | "error" | "gone", what to tell) for one requested instance.

        Nova marks the evacuation's migration record ``done`` only once the instance is rebuilt
        on its new host, so the record alone says when it is back; the server itself is read
        only when its evacuation failed.
        """
        if evacuation is None or evacuation.status not in ("done", "failed", "error"):
            return "moving", None
        if evacuation.status == "done":
            return "done", f"evacuated to {evacuation.dest_host}"
        server = self.nova.server(evacuation.instance_id)
        if server is None or server.status == "DELETED":
            return "gone", None
        if server.host != failed_host and server.status in SETTLED_STATUSES:
            return "done", f"{server.status} on {server.host}"
        return "error", f"evacuation {evacuation.status}; server {server.status}"

    def _finish(self, task_id: str) -> str:
        with self.runtime.transaction() as session:
            task = db_api.task(session, task_id)
            counts = db_api.item_counts(task)
            host = task.hostname
        done, placed = counts.get("done", 0), sum(counts.values()) - counts.get("skipped", 0)
        state = "done" if done == placed else ("partial" if done else "failed")
        if placed == 0:
            state = "done"
        summary = ", ".join(f"{n} {s}" for s, n in sorted(counts.items())) or "no instances"
        self._move_node(host, NodeState.EVACUATED, f"evacuation task {task_id}: {summary}",
                        only_from=(NodeState.EVACUATING,))
        return self._end(task_id, state, summary, alert=state != "done")

    # --- bookkeeping -----------------------------------------------------------------------

    def _end(self, task_id: str, state: str, message: str, alert: bool) -> str:
        with self.runtime.transaction() as session:
            task = db_api.task(session, task_id)
            task.state, task.message = state, message
            task.finished_at = datetime.now(UTC).replace(tzinfo=None)
            task.owner, task.lease_until = None, None
            db_api.add_event(session, task.hostname, "alert" if alert else "action",
                             f"evacuation task {task_id} {state}: {message}")
        log = LOG.error if alert else LOG.info
        log("task %s %s: %s", task_id, state, message)
        return state

    def _update_task(self, task_id: str, **values) -> Task:
        with self.runtime.transaction() as session:
            task = db_api.task(session, task_id)
            for key, value in values.items():
                setattr(task, key, value)
            return task

    def _items(self, task_id: str, states: tuple[str, ...]) -> list[TaskItem]:
        with self.runtime.transaction() as session:
            return [i for i in db_api.task(session, task_id).items if i.state in states]

    def _update_item(self, task_id: str, instance_id: str, **values) -> None:
        """One UPDATE of one row: items change often and a task may hold hundreds."""
        with self.runtime.transaction() as session:
            session.execute(sa.update(TaskItem)
                            .where(TaskItem.task_id == task_id,
                                   TaskItem.instance_id == instance_id)
                            .values(updated_at=utcnow(), **values))

    def _move_node(self, host: str, to_state: NodeState, reason: str,
                   only_from: tuple[NodeState, ...] | None = None) -> None:
        with self.runtime.transaction() as session:
            row = db_api.node(session, host)
            record = db_api.record_of(row)
            if record.state == to_state or (only_from and record.state not in only_from):
                return
            record, transition = mark(record, to_state, reason, self.clock())
            db_api.save_record(session, row, record, transition)
        LOG.info("node %s", transition)

    def renew_lease(self, task_id: str) -> None:
        with self.runtime.transaction() as session:
            task = db_api.task(session, task_id)
            if task.owner == self.owner:
                task.lease_until = datetime.now(UTC).replace(tzinfo=None) + self.lease


def _wait_for_power_off(driver: PowerDriver, host: str, attempts: int, interval: float,
                        sleep: Callable[[float], None]) -> str:
    """Read the power state until it is off, at most ``attempts`` more times; the last state.

    A failed read is one more check, not a failed fencing: BMCs drop connections, and the next
    read usually works. It is reported as "unknown (why)" if it is the last one.
    """
    for attempt in range(attempts + 1):
        if attempt:
            sleep(interval)
        try:
            state = driver.power_state()
        except PowerError as exc:
            LOG.warning("cannot read the power state of %s (%s); checking again", host, exc)
            state = f"unknown ({exc})"
        if state == "off":
            break
        if state == "unknown":  # a transition or an unclear answer: never taken as off
            LOG.warning("%s: %s; checking again", host, driver.unknown_reason)
            state = f"unknown ({driver.unknown_reason})"
    return state


class _LeaseRenewer:
    """Renews the task's lease while it runs, so a live worker is never taken over."""

    def __init__(self, evacuator: Evacuator, task_id: str) -> None:
        self._stop = threading.Event()
        interval = evacuator.lease.total_seconds() / 3

        def loop() -> None:
            while not self._stop.wait(interval):
                try:
                    evacuator.renew_lease(task_id)
                except Exception:  # noqa: BLE001 - the next renewal may succeed
                    LOG.exception("cannot renew the lease of task %s", task_id)

        self._thread = threading.Thread(target=loop, name=f"lease-{task_id}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
