"""Listener benchmark on the sandbox: how fast Nova's notifications reach the inventory.

Run from the repository root, with the sandbox up:
    .venv/bin/python -m bench.listener [--count 20000] [--publishers 4] [--workers 2]

A CloudManager deployment (its MariaDB database on the sandbox's server) runs the real
``aos-cloud-manager-listener`` with ``[listener] workers`` processes. The benchmark publishes
``count`` Nova-format versioned notifications (``instance.create.end`` with Nova's
``InstanceActionPayload``, each a new instance, so no two fold into one write) from
``publishers`` processes to the sandbox's RabbitMQ through oslo.messaging's ``messagingv2``
driver, as nova-computes do, and measures until the inventory holds every
instance. Figures: publish_s (all sent), reflected_s (all in the database, from the first
send), lag_s (reflected after the last send) and the rate count / reflected_s; the target is
2,000/s. That rate cannot exceed the publishers' own, so a second phase measures the
listener alone: with the listener stopped, ``count`` more notifications wait in its queue;
it is started again and drain_rate is those notifications over the time from the first to
the last in the inventory (start-up left out). The baseline, in the same run, is the
same notifications handled one message per transaction (the listener's previous shape), fed
to the same endpoint code in-process from a list (no broker): its rate is an upper bound of
that shape.
"""

from __future__ import annotations

import argparse
import multiprocessing
import tempfile
import time
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from cloud_manager.db.models import InventoryInstance
from cloud_manager.listener import NovaNotifications
from tools.aos_sandbox.aos_services import CloudManager, wait_for
from tools.aos_sandbox.client import Sandbox
from tools.nova_notifications import instance_payload, message, notifier

HOSTS = [f"bench-{n:03d}" for n in range(100)]


def payloads(count: int, tag: str) -> list[dict]:
    """``count`` new instances; ids are UUIDs starting with ``tag`` (one hex digit)."""
    return [instance_payload(f"{tag}{n:07d}-0000-4000-8000-{uuid.uuid4().hex[:12]}",
                             HOSTS[n % len(HOSTS)], ram_mb=512 + 512 * (n % 4))
            for n in range(count)]


def stored(cm: CloudManager, prefix: str) -> int:
    with cm.runtime.transaction() as session:
        return session.scalar(sa.select(sa.func.count()).select_from(InventoryInstance)
                              .where(InventoryInstance.id.like(f"{prefix}%"))) or 0


def _send(url: str, chunk: list[dict], ready: Any, go: Any) -> None:
    sender = notifier(url)
    ready.release()
    go.wait()
    for payload in chunk:
        sender.info({}, "instance.create.end", payload)


def publish(url: str, items: list[dict], publishers: int) -> float:
    """Send every payload from ``publishers`` processes (as many nova-computes would: one
    process's threads would share its interpreter lock); seconds from the first send to the
    last."""
    fork = multiprocessing.get_context("fork")
    ready, go = fork.Semaphore(0), fork.Event()
    senders = [fork.Process(target=_send, args=(url, items[i::publishers], ready, go))
               for i in range(publishers)]
    for sender in senders:
        sender.start()
    for _ in senders:  # connected, payloads in hand: only the sending is timed
        ready.acquire()
    started = time.monotonic()
    go.set()
    for sender in senders:
        sender.join()
        if sender.exitcode != 0:
            raise SystemExit(f"a publisher failed (exit code {sender.exitcode})")
    return time.monotonic() - started


def one_per_transaction(cm: CloudManager, items: list[dict]) -> float:
    """The baseline: the same endpoint, one message per call (one transaction each)."""
    endpoint = NovaNotifications(cm.runtime)
    stamp = str(datetime.utcnow())  # noqa: DTZ003 - oslo.messaging's naive UTC format
    started = time.monotonic()
    for payload in items:
        endpoint.info([message("instance.create.end", payload, stamp)])
    return time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=20000)
    parser.add_argument("--publishers", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2,
                        help="the listener's [listener] workers")
    parser.add_argument("--baseline-count", type=int, default=2000,
                        help="notifications handled one per transaction for the baseline")
    args = parser.parse_args()
    sandbox = Sandbox.load()
    url = sandbox.info["transport_url"]
    with tempfile.TemporaryDirectory(prefix="aos-bench-listener-") as tmp:
        cm = CloudManager(sandbox, Path(tmp), DEFAULT={"transport_url": url},
                          listener={"workers": args.workers})
        try:
            cm.start("listener")
            wait_for("the listener on the bus",
                     lambda: cm.output("listener").count("listening to Nova notifications")
                     >= args.workers, 60)
            time.sleep(2)  # its queue bound before the first message
            items = payloads(args.count, "a")
            started = time.monotonic()
            publish_s = publish(url, items, args.publishers)
            published = time.monotonic()
            wait_for("every notification in the inventory",
                     lambda: stored(cm, "a") >= args.count, timeout=600, interval=0.05)
            reflected = time.monotonic()
            cm.kill("listener")
            publish(url, payloads(args.count, "c"), args.publishers)  # queued meanwhile
            cm.start("listener")
            wait_for("the first queued notification in the inventory",
                     lambda: stored(cm, "c") > 0, timeout=120, interval=0.02)
            first = time.monotonic()
            wait_for("every queued notification in the inventory",
                     lambda: stored(cm, "c") >= args.count, timeout=600, interval=0.05)
            drain_s = time.monotonic() - first
            cm.kill("listener")
            base_items = payloads(args.baseline_count, "b")
            base_s = one_per_transaction(cm, base_items)
        finally:
            cm.drop()
    reflected_s = reflected - started
    rate = args.count / reflected_s
    base_rate = args.baseline_count / base_s
    print(f"notifications {args.count}, publisher processes {args.publishers}, "
          f"listener workers {args.workers}")
    print(f"publish_s {publish_s:.2f} ({args.count / publish_s:.0f}/s sent)")
    print(f"reflected_s {reflected_s:.2f}  lag_s {reflected - published:.2f}  "
          f"rate {rate:.0f}/s  (target >= 2000/s: {'met' if rate >= 2000 else 'NOT met'})")
    drain_rate = args.count / drain_s
    print(f"drain: {args.count} queued, first to last in the inventory {drain_s:.2f}s = "
          f"{drain_rate:.0f}/s (target >= 2000/s: {'met' if drain_rate >= 2000 else 'NOT met'})")
    print(f"baseline one transaction per message: {args.baseline_count} in {base_s:.2f}s "
          f"= {base_rate:.0f}/s; ratio listener/baseline {rate / base_rate:.1f}x")


if __name__ == "__main__":
    main()
