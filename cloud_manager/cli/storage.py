"""``openstack aos storage list|show``: Cinder's pools as storage_sync last saw them."""

from __future__ import annotations

import argparse
from typing import Any

from cloud_manager.cli import common

STORAGE_FIELDS = ("name", "volume_backend_name", "state", "enabled", "total_capacity_gb",
                  "free_capacity_gb", "allocated_capacity_gb", "hosts", "state_since")


class StorageList(common.ListCommand):
    """List Cinder's storage pools: capacity, state (up, down, gone) from their cinder-volume
    service, and the compute nodes with one of their volumes attached."""

    fields = STORAGE_FIELDS

    def records(self, parsed_args: argparse.Namespace) -> list[dict[str, Any]]:
        return [{**pool, "hosts": common.JSONColumn(pool["hosts"])}
                for pool in common.call(self.app, "GET", "/v1/storage")]


class StorageShow(common.ShowCommand):
    """Show a storage pool (host@backend#pool): capacity, state and why, the nodes using it,
    and the last storage sync (a failed one means the figures may be old)."""

    def get_parser(self, prog_name: str) -> argparse.ArgumentParser:
        parser = super().get_parser(prog_name)
        parser.add_argument("pool", metavar="<pool>",
                            help="Pool name as Cinder gives it (host@backend#pool).")
        return parser

    def record(self, parsed_args: argparse.Namespace) -> dict[str, Any]:
        return common.call(self.app, "GET", common.path("v1", "storage", parsed_args.pool))
