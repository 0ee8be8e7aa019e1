"""``openstack aos node list|show|add|evacuate|shutdown|maintenance|reserve``."""

from __future__ import annotations

import argparse
from typing import Any

from osc_lib import exceptions

from cloud_manager.cli import common
from cloud_manager.cli.power_devices import add_device_options, device_body
from cloud_manager.cli.tasks import add_wait_options, task_reader, wait_for_task
from cloud_manager.conf import STRATEGIES

NODE_FIELDS = ("hostname", "state", "reserve", "maintenance", "instances", "free_ram_mb",
               "state_since", "state_reason")


def _add_hostname(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("hostname", metavar="<hostname>", help="Compute node (as Nova names it).")


class NodeList(common.ListCommand):
    """List the compute nodes CloudManager tracks, with their state and reserve flag."""

    fields = NODE_FIELDS

    def get_parser(self, prog_name: str) -> argparse.ArgumentParser:
        parser = super().get_parser(prog_name)
        parser.add_argument("--state", metavar="<state>",
                            help="Only nodes in this state (up, suspect, down, fenced, "
                            "evacuating, evacuated, recovering, maintenance).")
        reserve = parser.add_mutually_exclusive_group()
        reserve.add_argument("--reserve", dest="reserve", action="store_const", const="true",
                             help="Only reserve nodes.")
        reserve.add_argument("--no-reserve", dest="reserve", action="store_const",
                             const="false", help="Only nodes outside the reserve.")
        return parser

    def records(self, parsed_args: argparse.Namespace) -> list[dict[str, Any]]:
        return common.call(self.app, "GET", "/v1/nodes",
                           params={"state": parsed_args.state, "reserve": parsed_args.reserve})


class NodeShow(common.ShowCommand):
    """Show a compute node: state and why, power device, active task, what the inventory
    holds of it (Nova's service state, Placement's capacity, its instances) and its last 50
    events."""

    def get_parser(self, prog_name: str) -> argparse.ArgumentParser:
        parser = super().get_parser(prog_name)
        _add_hostname(parser)
        return parser

    def record(self, parsed_args: argparse.Namespace) -> dict[str, Any]:
        return common.call(self.app, "GET", common.path("v1", "nodes", parsed_args.hostname))


def _add_strategy(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--strategy", choices=STRATEGIES,
                        help="Where instances go: auto (any host), reserved_host (reserve "
                        "nodes only), auto_priority (any host, then reserve nodes), "
                        "rh_priority (reserve nodes, then any host). Default: "
                        "[host_tasks] evacuation_strategy of the service.")


def _task_options(parsed_args: argparse.Namespace) -> dict[str, Any]:
    return {key: value for key in ("strategy", "reason")
            if (value := getattr(parsed_args, key))}


class NodeEvacuate(common.ShowCommand):
    """Evacuate a compute node: rebuild its instances elsewhere; prints the evacuation task.

    The evacuation runs in the background: follow it with 'openstack aos task show --wait'.
    CloudManager powers the node off first (power device) or proves it dead (storage check).
    A node that is up, suspect or recovering may still run its instances, and one without a
    power device and storage check cannot be made sure of: both are refused unless --force.
    """

    def get_parser(self, prog_name: str) -> argparse.ArgumentParser:
        parser = super().get_parser(prog_name)
        _add_hostname(parser)
        _add_strategy(parser)
        common.add_reason(parser, "the task and the node's events")
        parser.add_argument("--force", action="store_true",
                            help="You confirm that the node is powered off: evacuate it even "
                            "when it looks up or recovering, or when CloudManager cannot "
                            "power it off or prove it dead. If its instances still run, "
                            "they then run twice (on shared storage: corrupted disks); "
                            "that is your responsibility.")
        return parser

    def record(self, parsed_args: argparse.Namespace) -> dict[str, Any]:
        body = {"force": parsed_args.force, **_task_options(parsed_args)}
        return common.call(self.app, "POST",
                           common.path("v1", "nodes", parsed_args.hostname, "evacuate"), body)


class NodeShutdown(common.ShowCommand):
    """Shut a running node down through its power device, then evacuate its instances.

    The OS is asked to stop cleanly (ACPI soft-off); its power state is checked every
    [power] shutdown_interval seconds, at most shutdown_max_tick times, after which the power
    is switched off. Once the node is off its instances are rebuilt elsewhere as in
    'node evacuate'. Runs in the background: prints the task ('openstack aos task show --wait').
    """

    def get_parser(self, prog_name: str) -> argparse.ArgumentParser:
        parser = super().get_parser(prog_name)
        _add_hostname(parser)
        _add_strategy(parser)
        common.add_reason(parser, "the task and the node's events")
        return parser

    def record(self, parsed_args: argparse.Namespace) -> dict[str, Any]:
        return common.call(self.app, "POST",
                           common.path("v1", "nodes", parsed_args.hostname, "shutdown"),
                           _task_options(parsed_args))


class _NodeUpdate(common.ShowCommand):
    """Changes one flag of a node through PATCH /v1/nodes/{hostname}; prints the node."""

    flag = ""
    on_help = ""
    off_help = ""

    def get_parser(self, prog_name: str) -> argparse.ArgumentParser:
        parser = super().get_parser(prog_name)
        _add_hostname(parser)
        common.add_switch(parser, self.on_help, self.off_help)
        common.add_reason(parser)
        return parser

    def record(self, parsed_args: argparse.Namespace) -> dict[str, Any]:
        body: dict[str, Any] = {self.flag: parsed_args.on}
        if parsed_args.reason:
            body["reason"] = parsed_args.reason
        return common.call(self.app, "PATCH",
                           common.path("v1", "nodes", parsed_args.hostname), body)


class NodeMaintenance(_NodeUpdate):
    """Put a compute node into maintenance (--on) or take it back to up (--off).

    A node in maintenance is neither checked nor evacuated automatically.
    """

    flag = "maintenance"
    on_help = "Put the node into maintenance."
    off_help = "Take the node out of maintenance (back to up)."


class NodeReserve(_NodeUpdate):
    """Add a compute node to the reserve (--on) or remove it (--off).

    Reserve nodes receive instances of evacuated nodes (strategies reserved_host,
    auto_priority, rh_priority). Refused while the node has an active task.
    """

    flag = "reserve"
    on_help = "Add the node to the reserve."
    off_help = "Remove the node from the reserve."


class NodeAdd(common.ShowCommand):
    """Add a bare node by its MAC and power device, and provision it; prints its task.

    CloudManager writes the node's PXE file ([pxe] conf_dir), powers it on, finds the
    address its MAC leased ([DEFAULT] dhcp_leases) and waits until its nova-compute
    registers, then puts it in service (or, with --reserve, into the reserve pool). Name an
    existing power device with --power-device, or describe a new one with --driver and
    --address (named by --power-device, default <hostname>-power). Running it again for the
    same node and MAC follows the running task or resumes a failed one.
    """

    def get_parser(self, prog_name: str) -> argparse.ArgumentParser:
        parser = super().get_parser(prog_name)
        parser.add_argument("hostname", metavar="<hostname>",
                            help="The node's name, as its nova-compute will report it.")
        parser.add_argument("--mac", required=True, metavar="<mac>",
                            help="MAC address the node boots from the network with.")
        parser.add_argument("--power-device", metavar="<name>",
                            help="Existing power device of the node, or the name of the new "
                            "one described by --driver and --address.")
        add_device_options(parser, required=False)
        parser.add_argument("--reserve", action="store_true",
                            help="Put the node into the reserve pool (disabled in Nova, "
                            "kept for evacuations) instead of into service.")
        add_wait_options(parser)
        return parser

    def record(self, parsed_args: argparse.Namespace) -> dict[str, Any]:
        body: dict[str, Any] = {"hostname": parsed_args.hostname, "mac": parsed_args.mac,
                                "reserve": parsed_args.reserve}
        if parsed_args.driver or parsed_args.address:
            if not (parsed_args.driver and parsed_args.address):
                raise exceptions.CommandError("a new power device needs both --driver and "
                                              "--address")
            name = parsed_args.power_device or f"{parsed_args.hostname}-power"
            body["new_power_device"] = device_body(self.app, parsed_args, name)
        elif parsed_args.power_device:
            body["power_device"] = parsed_args.power_device
        else:
            raise exceptions.CommandError("name the node's power device (--power-device) or "
                                          "describe a new one (--driver and --address)")
        task = common.call(self.app, "POST", "/v1/nodes", body)
        if not parsed_args.wait:
            return task
        return wait_for_task(task_reader(self.app, task["id"]), parsed_args.poll_interval,
                             parsed_args.timeout)
