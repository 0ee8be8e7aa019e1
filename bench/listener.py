"""Listener benchmark on the sandbox: how fast Nova's notifications reach the inventory.

Run from the repository root, with the sandbox up:
    .venv/bin/python -m bench.listener [--count 20000] [--publishers 4]

A CloudManager deployment (its MariaDB database on the sandbox's server) runs the real
``aos-cloud-manager-listener``. The benchmark publishes ``count`` Nova-format versioned
notifications (``instance.create.end`` with Nova's ``InstanceActionPayload``, each a new
instance, so no two fold into one write) to the sandbox's RabbitMQ through oslo.messaging's
``messagingv2`` driver, as nova-compute does, and measures until the inventory holds every
instance. Figures: publish_s (all sent), reflected_s (all in the database, from the first
send), lag_s (reflected after the last send) and the rate count / reflected_s; the target is
2,000/s. That rate cannot exceed the publishers' own, so a second phase measures the
listener alone: with the listener stopped, ``count`` more notifications wait in its queue;
it is started again (``--listeners`` processes, as that many controllers would run, sharing
one queue) and drain_rate is those notifications over the time from the first to the last in
the inventory (start-up left out). The baseline, in the same run, is the
same notifications handled one message per transaction (the listener's previous shape), fed
to the same endpoint code in-process from a list (no broker): its rate is an upper bound of
that shape.
"""

from __future__ import annotations

import argparse
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path

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


def publish(url: str, items: list[dict], publishers: int) -> float:
    """Send every payload (``publishers`` connections at once); seconds it took."""
    chunks = [items[i::publishers] for i in range(publishers)]
    notifiers = [notifier(url) for _ in chunks]
    started = time.monotonic()

    def send(pair: tuple) -> None:
        sender, chunk = pair
        for payload in chunk:
            sender.info({}, "instance.create.end", payload)

    with ThreadPoolExecutor(max_workers=publishers) as pool:
        list(pool.map(send, zip(notifiers, chunks, strict=True)))
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
    parser.add_argument("--listeners", type=int, default=1,
                        help="listener processes (as on that many controllers: they share "
                        "one queue); the drain phase runs with them all")
    parser.add_argument("--baseline-count", type=int, default=2000,
                        help="notifications handled one per transaction for the baseline")
    args = parser.parse_args()
    sandbox = Sandbox.load()
    url = sandbox.info["transport_url"]
    with tempfile.TemporaryDirectory(prefix="aos-bench-listener-") as tmp:
        cm = CloudManager(sandbox, Path(tmp), DEFAULT={"transport_url": url})
        try:
            cm.start("listener")
            wait_for("the listener on the bus",
                     lambda: "listening to Nova notifications" in cm.output("listener"), 60)
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
            for n in range(args.listeners):
                cm.start("listener", f"listener-{n}")
            wait_for("the first queued notification in the inventory",
                     lambda: stored(cm, "c") > 0, timeout=120, interval=0.02)
            first = time.monotonic()
            wait_for("every queued notification in the inventory",
                     lambda: stored(cm, "c") >= args.count, timeout=600, interval=0.05)
            drain_s = time.monotonic() - first
            for n in range(args.listeners):
                cm.kill(f"listener-{n}")
            base_items = payloads(args.baseline_count, "b")
            base_s = one_per_transaction(cm, base_items)
        finally:
            cm.drop()
    reflected_s = reflected - started
    rate = args.count / reflected_s
    base_rate = args.baseline_count / base_s
    print(f"notifications {args.count}, publishers {args.publishers}")
    print(f"publish_s {publish_s:.2f} ({args.count / publish_s:.0f}/s sent)")
    print(f"reflected_s {reflected_s:.2f}  lag_s {reflected - published:.2f}  "
          f"rate {rate:.0f}/s  (target >= 2000/s: {'met' if rate >= 2000 else 'NOT met'})")
    drain_rate = args.count / drain_s
    print(f"drain ({args.listeners} listener process(es)): {args.count} queued, first to "
          f"last in the inventory {drain_s:.2f}s = "
          f"{drain_rate:.0f}/s (target >= 2000/s: {'met' if drain_rate >= 2000 else 'NOT met'})")
    print(f"baseline one transaction per message: {args.baseline_count} in {base_s:.2f}s "
          f"= {base_rate:.0f}/s; ratio listener/baseline {rate / base_rate:.1f}x")


if __name__ == "__main__":
    main()
