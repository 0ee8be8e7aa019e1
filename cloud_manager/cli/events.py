"""``openstack aos event list``."""

from __future__ import annotations

import argparse
from typing import Any

from cloud_manager.cli import common

EVENT_FIELDS = ("created_at", "hostname", "kind", "from_state", "to_state", "message")


class EventList(common.ListCommand):
    """List node events (state transitions, actions, alerts), newest first."""

    fields = EVENT_FIELDS

    def get_parser(self, prog_name: str) -> argparse.ArgumentParser:
        parser = super().get_parser(prog_name)
        parser.add_argument("--hostname", metavar="<hostname>", help="Only events of this node.")
        parser.add_argument("--kind", metavar="<kind>",
                            help="Only events of this kind (transition, action, alert, "
                            "discovered, ...).")
        parser.add_argument("--limit", type=int, metavar="<n>",
                            help="At most this many events (1-1000, default 100).")
        return parser

    def records(self, parsed_args: argparse.Namespace) -> list[dict[str, Any]]:
        return common.call(self.app, "GET", "/v1/events",
                           params={"hostname": parsed_args.hostname, "kind": parsed_args.kind,
                                   "limit": parsed_args.limit})
