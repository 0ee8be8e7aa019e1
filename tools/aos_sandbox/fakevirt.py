"""A nova fake virt driver that behaves like one real hypervisor per nova-compute.

Nova's own FakeDriver is built for nova's unit tests: it invents a random node UUID per
process (so a restarted compute looks like a new node) and keeps a live-migrated guest in
the source host's memory (so migrating back fails with InstanceExists). This driver fixes
both: node UUID persisted in CONF.state_path, the guest forgotten on the source after live
migration. The node name is CONF.host, but for one host an FQDN (``contract.node_name``).
Sizes come from AOS_SANDBOX_COMPUTE_* variables.

A test can hold live migrations out of a host as a long copy of memory would: while the file
``contract.HOLD_LIVE_MIGRATIONS`` exists in the source's state_path, its migrations stay running
(``Sandbox.hold_live_migrations``), so a fault can be produced in the middle of one.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import nova.conf
from nova.virt import fake
from nova.virt import node as virt_node

from .contract import HOLD_LIVE_MIGRATIONS, node_name

CONF = nova.conf.CONF
# The longest a held migration waits: a test that forgets its hold cannot hang a compute.
HOLD_LIMIT_SECONDS = 300


def _size(name: str, default: int) -> int:
    return int(os.environ.get(f"AOS_SANDBOX_COMPUTE_{name}", default))


class SandboxFakeDriver(fake.FakeDriver):
    """FakeDriver with a stable node identity and sized like a small server."""

    vcpus = _size("VCPUS", 8)
    memory_mb = _size("RAM_MB", 8192)
    local_gb = _size("DISK_GB", 200)

    def init_host(self, host):
        super().init_host(host)
        self._set_nodes([node_name(host)])

    def _node_uuid(self) -> str:
        return str(virt_node.get_local_node_uuid())

    def get_available_resource(self, nodename):
        status = super().get_available_resource(nodename)
        if status:
            status["uuid"] = self._node_uuid()
        return status

    def get_nodenames_by_uuid(self, refresh=False):
        return {self._node_uuid(): n for n in self.get_available_nodes()}

    def post_live_migration(self, context, instance, block_device_info, migrate_data=None):
        # Runs on the source host: the guest now lives on the destination.
        self.destroy(context, instance, network_info=None, block_device_info=block_device_info)

    def live_migration(self, context, instance, dest, *args, **kwargs):
        gate = Path(CONF.state_path) / HOLD_LIVE_MIGRATIONS
        deadline = time.monotonic() + HOLD_LIMIT_SECONDS
        while gate.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        return super().live_migration(context, instance, dest, *args, **kwargs)
