"""Console scripts of the CloudManager services (systemd units of the same names)."""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from oslo_config import cfg

from aos import service
from cloud_manager.module import MODULE

if TYPE_CHECKING:
    from cloud_manager.runtime import Runtime

LOG = logging.getLogger(__name__)
# The lock whose holder runs the periodic side (tracker, node_sync, balancing).
LEADER_LOCK = "aos-cloud-manager-node-tracker"


def api() -> None:
    from cloud_manager.api.cloud_manager_api import create_app

    service.run_api(MODULE, create_app)


def worker() -> None:
    """Runs host tasks (evacuations) from the queue."""

    def main(conf: cfg.ConfigOpts) -> None:
        from aos.tasks import run_worker
        from cloud_manager import power, runtime, tasks

        power.preload_drivers()
        app = tasks.celery_app(conf)
        rt = runtime.build(conf)
        threading.Thread(target=_stay_authenticated, args=(rt,), name="keystone-token",
                         daemon=True).start()
        tasks.register(app, rt)
        run_worker(app, queues=[MODULE.name])

    service.run(MODULE, "worker", main)


def _stay_authenticated(rt: Runtime, interval: float = 60) -> None:
    """Keep the worker's token valid and its endpoints known (see Nova.authenticate)."""
    from cloud_manager.nova import NovaError

    logged = False
    while True:
        try:
            expires = rt.nova.authenticate()
        except NovaError as exc:
            LOG.warning("%s; retrying in %ds (evacuations authenticate themselves)",
                        exc, interval)
            logged = False
        else:
            if not logged:
                LOG.info("authenticated to OpenStack; token valid until %s, renewed before "
                         "it expires", expires)
                logged = True
        time.sleep(interval)


def _in_background(name: str, loop: Callable[..., None], *args: object) -> None:
    """One of the beat's periodic loops, in a daemon thread beside the tracker."""
    threading.Thread(target=loop, args=args, name=name, daemon=True).start()


def beat() -> None:
    """The periodic side, on the leader controller only: the node tracker loop, with
    ``[node_sync] enabled`` the inventory's sync (and the reserve pool), with ``[storage_sync]
    enabled`` Cinder's pools, with ``[balancing] enabled`` the periodic balancing, with
    ``[drs_trigger] enabled`` Watcher's action plans applied. All hold one lock: one
    controller acts."""

    def main(conf: cfg.ConfigOpts) -> None:
        from aos.coordination import Leadership
        from aos.log import add_logfile
        from cloud_manager import balancer, node_sync, power, runtime, storage_sync, tracker

        if not (conf.node_tracker.enabled or conf.node_sync.enabled
                or conf.storage_sync.enabled):
            LOG.warning("[node_tracker], [node_sync] and [storage_sync] enabled = false: "
                        "compute nodes and storage are neither checked nor synchronized")
            _wait_for_signal()
            return
        power.preload_drivers()
        rt = runtime.build(conf)
        rt.connect_task_queue()
        leadership = Leadership(conf, LEADER_LOCK)
        stop = _stop_event()
        if conf.node_sync.enabled:
            add_logfile(node_sync.LOG, conf.node_sync.logfile)
            sync = node_sync.NodeSync(rt, still_leader=leadership.is_leader)
            _in_background("node-sync", node_sync.run_forever, sync, leadership.is_leader,
                           stop.is_set)
        if conf.storage_sync.enabled:
            add_logfile(storage_sync.LOG, conf.storage_sync.logfile)
            pools = storage_sync.StorageSync(rt, still_leader=leadership.is_leader)
            _in_background("storage-sync", storage_sync.run_forever, pools,
                           leadership.is_leader, stop.is_set)
        if conf.balancing.enabled:
            _in_background("balancing", balancer.run_forever, rt, leadership.is_leader,
                           stop.is_set)
        if conf.drs_trigger.enabled:
            from cloud_manager import drs_trigger

            add_logfile(drs_trigger.LOG, conf.drs_trigger.logfile)
            _in_background("drs-trigger", drs_trigger.run_forever, rt, leadership.is_leader,
                           stop.is_set)
        if not conf.node_tracker.enabled:
            LOG.warning("[node_tracker] enabled = false: compute nodes are not checked")
            stop.wait()
            leadership.stop()
            return
        try:
            node_tracker = tracker.NodeTracker(rt, rt.dispatch_task,
                                               still_leader=leadership.is_leader)
            tracker.run_forever(node_tracker, leadership.is_leader, stop.is_set)
        finally:
            leadership.stop()

    service.run(MODULE, "beat", main, ("node_tracker", "logfile"))


def agent() -> None:
    """The node agent: writes this node's instance states to shared storage."""

    def main(conf: cfg.ConfigOpts) -> None:
        from cloud_manager import agent as node_agent

        if not conf.agent.enabled:
            LOG.warning("[agent] enabled = false: the node agent does nothing")
            _wait_for_signal()
            return
        node_agent.run(conf, _stop_event().is_set)

    service.run(MODULE, "agent", main, ("agent", "logfile"))


def listener() -> None:
    def main(conf: cfg.ConfigOpts) -> None:
        from cloud_manager import listener as nova_listener

        nova_listener.run(conf)

    service.run(MODULE, "listener", main, ("listener", "logfile"))


def _stop_event() -> threading.Event:
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    return stop


def _wait_for_signal() -> None:
    _stop_event().wait()
