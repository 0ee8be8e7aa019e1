"""Which hosts may run a project's servers, decided over plain data (no Nova, no I/O).

A host's cloud is the ``hypervisor_type`` its compute driver reports (``aws`` for
EC2Driver, ``yandex`` for YandexDriver); a project's cloud is its Clouds API binding.
"""

from __future__ import annotations

#: hypervisor_type values the cloud compute drivers report (CloudDriver.cloud).
CLOUD_HYPERVISORS = frozenset({"aws", "yandex"})


def host_cloud(hypervisor_type: str | None) -> str | None:
    """The cloud a compute host runs its instances in; None for an ordinary hypervisor."""
    return hypervisor_type if hypervisor_type in CLOUD_HYPERVISORS else None


def host_fits(host: str | None, project: str | None) -> bool:
    """A cloud-bound project goes to its cloud's hosts only; other projects never go there."""
    return host == project
