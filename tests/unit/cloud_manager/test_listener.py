"""The Nova notification listener service starts (its message bus may still be unreachable)."""

import signal
import socket
import subprocess
import time

import psutil

from tests.conftest import venv_bin


def test_listener_keeps_running_with_aos_transport_url_set(aos_env, tmp_path):
    with socket.socket() as sock:  # a free port: nothing answers there, the listener retries
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    (aos_env["etc"] / "cloud_manager.conf").write_text(
        f"[DEFAULT]\ntransport_url = rabbit://aos:secret@127.0.0.1:{port}/\n")
    log = tmp_path / "listener.log"
    proc = subprocess.Popen([venv_bin("aos-cloud-manager-listener"), "--log-file", str(log)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        # Past its set-up, it connects to the bus (and retries: nothing listens there).
        while "Connection failed" not in (log.read_text() if log.exists() else ""):
            assert proc.poll() is None, log.read_text() if log.exists() else "no log"
            assert time.monotonic() < deadline, "the listener never tried the message bus"
            time.sleep(0.5)
        workers = psutil.Process(proc.pid).children()
        assert len(workers) == 2, "[listener] workers = 2 by default"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    # A master killed outright takes its workers with it (none left consuming alone).
    gone, alive = psutil.wait_procs(workers, timeout=30)
    assert alive == []


def test_notifications_sent_on_novas_exchange_reach_the_inventory(make_runtime):
    """oslo.messaging's in-memory driver, a notifier configured as Nova configures its own
    (control_exchange "nova", messagingv2): the batch listener stores what it sends."""
    import oslo_messaging
    from oslo_config import cfg

    from cloud_manager import listener
    from cloud_manager.db import api as db_api
    from tools.nova_notifications import TOPIC, instance_payload, service_payload

    runtime = make_runtime()
    transport = oslo_messaging.get_notification_transport(cfg.ConfigOpts(), url="fake://")
    nova_conf = cfg.ConfigOpts()
    oslo_messaging.get_notification_transport(nova_conf, url="fake://")  # registers options
    nova_conf.set_override("control_exchange", "nova")
    nova = oslo_messaging.Notifier(
        oslo_messaging.get_notification_transport(nova_conf, url="fake://"),
        publisher_id="nova-compute:c1", driver="messagingv2", topics=[TOPIC])
    # Same topic on oslo.messaging's default exchange: not Nova's, not heard.
    other = oslo_messaging.Notifier(transport, publisher_id="x", driver="messagingv2",
                                    topics=[TOPIC])
    consumer = listener.notification_listener(transport, runtime)
    consumer.start()
    try:
        for n in range(5):
            nova.info({}, "instance.create.end", instance_payload(f"i{n}", "c1"))
        nova.info({}, "service.update", service_payload("c1", disabled=True))
        other.info({}, "instance.create.end", instance_payload("elsewhere", "c1"))
        deadline = time.monotonic() + 20
        while True:
            with runtime.transaction() as session:
                found = db_api.inventory_instances(session, host="c1")
            if len(found) == 5 or time.monotonic() > deadline:
                break
            time.sleep(0.1)
    finally:
        consumer.stop()
        consumer.wait()
    assert sorted(found) == [f"i{n}" for n in range(5)]


def _record(instance_id: str, host: str, at: str):
    from datetime import datetime

    from cloud_manager.model.inventory import InstanceRecord

    return InstanceRecord(id=instance_id, name=instance_id, host=host, state="active",
                          changed_at=datetime.fromisoformat(at), ram_mb=512)


def test_an_older_word_never_replaces_a_newer_one_whoever_writes_it(make_runtime):
    """Two listeners (controllers or workers) that read the same stored row before either
    wrote: the one holding the older notification must not undo the newer."""
    from cloud_manager.db import api as db_api

    runtime = make_runtime()
    with runtime.transaction() as session:
        db_api.write_instances(session, [_record("i1", "c1", "2026-12-01T10:00:00")])
    with runtime.transaction() as session:  # the newer word (moved to c2) lands first
        db_api.write_instances(session, [_record("i1", "c2", "2026-12-01T10:00:05")])
    with runtime.transaction() as session:  # then the older one, read-before-write skipped
        db_api.write_instances(session, [_record("i1", "c3", "2026-12-01T10:00:03"),
                                         _record("i2", "c3", "2026-12-01T10:00:03")])
    with runtime.transaction() as session:
        stored = db_api.inventory_instances(session)
    assert (stored["i1"].host, stored["i2"].host) == ("c2", "c3")



def test_an_older_notification_does_not_undo_a_newer_stored_state(make_runtime):
    from datetime import datetime, timedelta

    from cloud_manager.db import api as db_api
    from cloud_manager.inventory.notifications import Notification
    from cloud_manager.listener import apply_notifications
    from tools.nova_notifications import instance_payload

    def note(event_type, payload, seconds):
        return Notification(event_type, payload,
                            datetime(2026, 12, 1, 12, 0, 0) + timedelta(seconds=seconds))

    runtime = make_runtime()
    apply_notifications(runtime, [note("instance.delete.end",
                                       instance_payload("u1", "c1", state="deleted"), 10)])
    apply_notifications(runtime, [note("instance.power_off.end", instance_payload("u1", "c1"), 3),
                                  note("instance.create.end", instance_payload("u2", "c1"), 3)])
    with runtime.transaction() as session:
        stored = db_api.inventory_instances(session)
    assert stored["u1"].deleted
    assert sorted(stored) == ["u1", "u2"]
