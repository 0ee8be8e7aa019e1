"""``make demo``: the sandbox cloud protected by CloudManager, with the Clouds API beside it.

Brings the sandbox up (4 computes, BMCs, cloud doubles), deploys CloudManager (api, beat,
worker, listener) and Clouds (api, worker) against it with Keystone auth, registers their
endpoints in the sandbox catalog and a power device per compute, then stays in the foreground
printing node transitions until Ctrl-C (which stops the AOS services; the sandbox stays up:
``tools/sandbox down`` stops it).
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.functional.cloud_manager_harness import CloudManager, wait_for
from tests.functional.conftest import REPO, Sandbox, _sandbox

STATE = REPO / ".sandbox" / "aos"
ENDPOINTS = {"cloud-manager": ("cloud-manager", "Cloud Manager Service", 9362),
             "clouds": ("clouds", "Clouds Service", 9366)}


def keystone_auth(sandbox: Sandbox) -> dict[str, str]:
    user = sandbox.info["service_user"]
    return {"www_authenticate_uri": sandbox.info["auth_url"],
            "auth_url": sandbox.info["auth_url"], "auth_type": "password",
            "username": user["username"], "password": user["password"],
            "project_name": user["project_name"], "user_domain_name": "Default",
            "project_domain_name": "Default", "service_token_roles_required": "true"}


def register_endpoints(sandbox: Sandbox) -> None:
    """Catalog entries as the install guides create them, so ``openstack aos …`` finds them."""
    identity = sandbox.conn("admin").identity
    for service_type, (name, description, port) in ENDPOINTS.items():
        service = identity.find_service(name)
        if service is None:
            service = identity.create_service(name=name, type=service_type,
                                              description=description)
        existing = {e.interface for e in identity.endpoints(service_id=service.id)}
        for interface in ("internal", "admin", "public"):
            if interface not in existing:
                identity.create_endpoint(service_id=service.id, interface=interface,
                                         url=f"http://127.0.0.1:{port}",
                                         region_id=sandbox.info["region"])


def deploy_clouds(sandbox: Sandbox) -> subprocess.Popen:
    etc = STATE / "clouds-etc"
    etc.mkdir(parents=True, exist_ok=True)
    auth = "\n".join(f"{k} = {v}" for k, v in keystone_auth(sandbox).items())
    (etc / "aos.conf").write_text(
        f"[DEFAULT]\nstate_path = {STATE / 'clouds-state'}\nlog_root = {STATE / 'log'}\n"
        f"[api]\nhost = 127.0.0.1\nworkers = 1\n[keystone_authtoken]\n{auth}\n")
    env = {"AOS_CONFIG_DIR": str(etc), "PATH": str(Path(sys.executable).parent)}
    bin_dir = Path(sys.executable).parent
    subprocess.run([bin_dir / "openstack", "aos", "db", "migrate", "-n", "clouds"], env=env,
                   check=True)
    return subprocess.Popen([bin_dir / "aos-clouds-api"], env=env, start_new_session=True)


def main() -> None:
    _sandbox("up", "--computes", "4")
    sandbox = Sandbox(json.loads((REPO / ".sandbox" / "sandbox.json").read_text()))
    register_endpoints(sandbox)
    cm = CloudManager(sandbox, STATE, database="aos_demo_cloud_manager",
                      node_tracker={"loop_time": 2, "mutex": 2, "max_down_hosts": 1},
                      api={"auth_strategy": "keystone", "host": "127.0.0.1", "workers": 1},
                      keystone_authtoken=keystone_auth(sandbox),
                      DEFAULT={"transport_url": sandbox.info["transport_url"]})
    with cm.runtime.transaction() as session:
        from cloud_manager.db import api as db_api

        known = {d.hostname for d in db_api.power_devices(session)}
    for host in sandbox.info["hosts"]:
        if host not in known:
            cm.add_bmc(host, "ipmi")
    for service in ("api", "beat", "worker", "listener"):
        cm.start(service)
    clouds_api = deploy_clouds(sandbox)
    wait_for("nodes discovered", lambda: len(cm.node_states()) >= len(sandbox.info["hosts"]))
    print(f"""
CloudManager protects the sandbox ({', '.join(sorted(cm.node_states()))}).
In another shell:
  source {REPO / '.sandbox' / 'openrc-admin'}
  openstack aos node list
  openstack aos power-device list
  tools/sandbox kill-host compute2      # a hypervisor dies: watch it being evacuated
  openstack aos task list
Logs: {STATE}/*.log   Ctrl-C stops the AOS services (the sandbox stays up).
""", flush=True)
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    seen = {e.id for e in cm.events()}
    try:
        while not stop:
            for event in reversed(cm.events()):
                if event.id not in seen:
                    seen.add(event.id)
                    print(f"{event.created_at:%H:%M:%S} {event.hostname or '-':10} "
                          f"{event.kind:10} {event.message}", flush=True)
            time.sleep(1)
    except KeyboardInterrupt:
        pass
    finally:
        cm.stop_all()
        clouds_api.terminate()


if __name__ == "__main__":
    main()
