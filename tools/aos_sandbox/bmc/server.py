"""The BMC process: every host's IPMI and Redfish BMC in one long-running process.

Usage: python tools/aos_sandbox/bmc/server.py --state-dir DIR --hosts compute1,compute2 \
           --sandbox-cmd tools/sandbox [--ipmi-port-base N] [--redfish-port-base N]

Writes run/bmc.pid, log/bmc.log, bmc/credentials.json and, once every port is bound,
bmc/endpoints.json (which `start()` waits for). SIGTERM lets queued power commands
finish before exiting.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import threading
from pathlib import Path

try:
    from . import credentials, ipmi, power, redfish
except ImportError:  # run as a script: this directory is sys.path[0]
    import credentials  # type: ignore[no-redef]
    import ipmi  # type: ignore[no-redef]
    import power  # type: ignore[no-redef]
    import redfish  # type: ignore[no-redef]

ADDRESS = "127.0.0.1"
IPMI_PORT_BASE = int(os.environ.get("AOS_SANDBOX_BMC_IPMI_PORT_BASE", 16231))
REDFISH_PORT_BASE = int(os.environ.get("AOS_SANDBOX_BMC_REDFISH_PORT_BASE", 16301))
LOG = logging.getLogger("aos_sandbox.bmc")


def endpoints(
    hosts: list[str], ipmi_base: int, redfish_base: int, creds: dict[str, str]
) -> dict[str, dict]:
    """The connection data for each host, in the shape `start()` returns."""
    user, password = creds["username"], creds["password"]
    return {
        host: {
            "ipmi": {
                "address": ADDRESS,
                "port": ipmi_base + i,
                "username": user,
                "password": password,
            },
            "redfish": {
                "url": f"http://{ADDRESS}:{redfish_base + i}",
                "system_id": host,
                "username": user,
                "password": password,
            },
        }
        for i, host in enumerate(hosts)
    }


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--state-dir", type=Path, required=True)
    parser.add_argument("--hosts", required=True, help="comma-separated host names")
    parser.add_argument("--sandbox-cmd", type=Path, required=True)
    parser.add_argument("--ipmi-port-base", type=int, default=IPMI_PORT_BASE)
    parser.add_argument("--redfish-port-base", type=int, default=REDFISH_PORT_BASE)
    parser.add_argument("-v", "--verbose", action="store_true", help="log HTTP requests")
    args = parser.parse_args(argv)
    args.hosts = [h for h in args.hosts.split(",") if h]
    if not args.hosts:
        parser.error("--hosts is empty")
    return args


def _setup_logging(state_dir: Path, verbose: bool) -> None:
    log_dir = state_dir / "log"
    log_dir.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(log_dir / "bmc.log")
    handler.setFormatter(
        logging.Formatter("%(asctime)s %(process)d %(levelname)s %(name)s: %(message)s")
    )
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    logging.getLogger("aos_sandbox").setLevel(logging.DEBUG if verbose else logging.INFO)


def _write_json(path: Path, data: object) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=1))
    os.replace(tmp, path)


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    state_dir = args.state_dir.resolve()
    _setup_logging(state_dir, args.verbose)
    run_dir, bmc_dir = state_dir / "run", state_dir / "bmc"
    run_dir.mkdir(parents=True, exist_ok=True)
    bmc_dir.mkdir(parents=True, exist_ok=True)
    pid_file = run_dir / "bmc.pid"
    pid_file.write_text(f"{os.getpid()}\n")
    (bmc_dir / "endpoints.json").unlink(missing_ok=True)

    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    signal.signal(signal.SIGINT, lambda *_: stopping.set())

    sandbox_cmd = args.sandbox_cmd.resolve()
    creds = credentials.create(state_dir)
    hosts = args.hosts
    controller = power.PowerController(state_dir, hosts, sandbox_cmd)
    ipmi_ports = {h: args.ipmi_port_base + i for i, h in enumerate(hosts)}
    redfish_ports = {h: args.redfish_port_base + i for i, h in enumerate(hosts)}
    try:
        ipmi.serve(controller, ipmi_ports, creds["username"], creds["password"], ADDRESS)
        http_servers = redfish.serve(
            controller, redfish_ports, creds["username"], creds["password"], ADDRESS
        )
    except OSError as exc:
        LOG.error(
            "cannot bind BMC ports (ipmi base %d, redfish base %d): %s",
            args.ipmi_port_base,
            args.redfish_port_base,
            exc,
        )
        pid_file.unlink(missing_ok=True)
        return 1

    info = endpoints(hosts, args.ipmi_port_base, args.redfish_port_base, creds)
    for host in hosts:  # the password stays in credentials.json only
        for proto in info[host].values():
            proto.pop("password")
    _write_json(
        bmc_dir / "endpoints.json",
        {
            "pid": os.getpid(),
            "hosts": hosts,
            "sandbox_cmd": str(sandbox_cmd),
            "ipmi_port_base": args.ipmi_port_base,
            "redfish_port_base": args.redfish_port_base,
            "endpoints": info,
        },
    )
    LOG.info(
        "BMCs up for %s (power: %s), sandbox command %s",
        ",".join(hosts),
        ", ".join(f"{h}={controller.state(h)}" for h in hosts),
        sandbox_cmd,
    )

    while not stopping.wait(3600):
        pass
    LOG.info("stopping BMCs")
    # shutdown() blocks for up to one poll interval; do all hosts at once.
    stoppers = [threading.Thread(target=s.shutdown) for s in http_servers]
    for stopper in stoppers:
        stopper.start()
    for stopper, server in zip(stoppers, http_servers, strict=True):
        stopper.join()
        server.server_close()
    controller.close()
    (bmc_dir / "endpoints.json").unlink(missing_ok=True)
    try:
        if pid_file.read_text().strip() == str(os.getpid()):
            pid_file.unlink()
    except OSError:
        pass
    LOG.info("BMCs stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
