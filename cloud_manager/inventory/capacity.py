"""Free capacity of a host from the inventory, on the safe side between two syncs.

Placement's usage was read at the sync; instances the listener saw arrive since then are not
in it. Used is therefore the larger of Placement's usage at the sync and the sum of the
instances the inventory has on the host now: an instance created since the sync counts at once,
one deleted since is freed only by the next sync. The figure never shows more room than either
source, and Nova's scheduler checks a chosen target anyway.
"""

from __future__ import annotations

from collections.abc import Iterable

from cloud_manager.model.inventory import HostRecord, InstanceRecord


def instance_sums(instances: Iterable[InstanceRecord]) -> dict[str, dict[str, int]]:
    """Per host, the RAM, vCPUs and disk its (not deleted) instances hold."""
    sums: dict[str, dict[str, int]] = {}
    for instance in instances:
        if instance.deleted or not instance.host:
            continue
        held = sums.setdefault(instance.host, {"MEMORY_MB": 0, "VCPU": 0, "DISK_GB": 0})
        held["MEMORY_MB"] += instance.ram_mb
        held["VCPU"] += instance.vcpus
        held["DISK_GB"] += instance.disk_gb
    return sums


def used(host: HostRecord, held: dict[str, int] | None) -> dict[str, int]:
    """Used per resource class on the safe side for room (see the module's docstring)."""
    held = held or {}
    classes = set(host.resources) | set(held)
    return {rc: max(host.resources[rc].used if rc in host.resources else 0, held.get(rc, 0))
            for rc in classes}


def free(host: HostRecord, held: dict[str, int] | None) -> dict[str, int]:
    """Free per resource class Placement has an inventory of (allocation ratio applied)."""
    use = used(host, held)
    return {rc: max(0, resource.capacity - use.get(rc, 0))
            for rc, resource in host.resources.items()}


def load(host: HostRecord, held: dict[str, int] | None) -> dict[str, int]:
    """Used per resource class as the inventory's instances hold it: the load a balancing plan
    moves those instances out of. Placement's figure at the sync would still count instances
    that left since (a finished live migration), and a plan would move more of them again."""
    held = held or {}
    return {rc: held.get(rc, 0) for rc in set(host.resources) | set(held)}
