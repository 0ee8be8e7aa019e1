"""``openstack aos node agent NODE report|restart-compute``: ask one node's agent through the
API (which reaches it over the message broker)."""

from __future__ import annotations

import argparse
from typing import Any

from cloud_manager.cli import common

ACTIONS = {"report": ("GET", "instances"), "restart-compute": ("POST", "restart-compute")}


class NodeAgent(common.ShowCommand):
    """Ask a node's agent: 'report' lists the instances on the node and their state (from the
    agent's libvirt or Nova); 'restart-compute' restarts its nova-compute. Needs [agent]
    enabled on the controller; an agent that does not answer is an error (HTTP 504)."""

    def get_parser(self, prog_name: str) -> argparse.ArgumentParser:
        parser = super().get_parser(prog_name)
        parser.add_argument("hostname", metavar="<hostname>",
                            help="Compute node (as Nova names it).")
        parser.add_argument("action", choices=sorted(ACTIONS), help="What to ask the agent.")
        return parser

    def record(self, parsed_args: argparse.Namespace) -> dict[str, Any]:
        method, leaf = ACTIONS[parsed_args.action]
        return common.call(self.app, method,
                           common.path("v1", "nodes", parsed_args.hostname, "agent", leaf))
