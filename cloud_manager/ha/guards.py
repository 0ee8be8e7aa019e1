"""Whether down hosts may be evacuated automatically.

Many hosts going down at once is more often a network or controller failure than many dead
hypervisors; evacuating then would start instances that are still running. The guard therefore
refuses everything once too many hosts are down, and leaves the decision to an operator.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True)
class EvacuationPolicy:
    """The [node_tracker] and [host_tasks] options that gate automatic evacuation."""

    max_down_hosts: int = 0
    allow_evacuate_host: bool = True
    deny_evacuate: frozenset[str] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        if self.max_down_hosts < 0:
            raise ValueError(
                f"[node_tracker] max_down_hosts must not be negative, got {self.max_down_hosts}"
            )
        object.__setattr__(self, "deny_evacuate", frozenset(self.deny_evacuate))


@dataclass(frozen=True)
class GuardDecision:
    """`allowed` may be evacuated now; every other down host is in `refused` with the reason."""

    allowed: frozenset[str]
    refused: dict[str, str]
    alert: str | None = None


def decide_auto_evacuation(
    down_hosts: Sequence[str],
    reserve_hosts: Collection[str],
    policy: EvacuationPolicy,
    maintenance_hosts: Collection[str] = frozenset(),
) -> GuardDecision:
    """Split down hosts into those automatic evacuation may handle and those it must not.

    Reserve hosts do not count toward `max_down_hosts`: they carry no instances, so their loss
    says nothing about a failure spreading through the cloud. Maintenance hosts should not be
    passed in at all; if they are, they are refused and not counted, as planned work is no failure.
    """
    hosts = list(dict.fromkeys(down_hosts))

    if policy.max_down_hosts == 0:
        return _refuse_all(
            hosts, "automatic evacuation is disabled by [node_tracker] max_down_hosts = 0"
        )
    if not policy.allow_evacuate_host:
        return _refuse_all(
            hosts, "host evacuation is disabled by [host_tasks] allow_evacuate_host = False"
        )

    counted = [h for h in hosts if h not in reserve_hosts and h not in maintenance_hosts]
    if len(counted) > policy.max_down_hosts:
        alert = (
            f"{len(counted)} compute hosts down (max_down_hosts={policy.max_down_hosts}): "
            "automatic evacuation suspended for all hosts"
        )
        return _refuse_all(hosts, alert, alert=alert)

    refused: dict[str, str] = {}
    for host in hosts:
        if host in maintenance_hosts:
            refused[host] = "host is in maintenance: it is never evacuated automatically"
        elif host in policy.deny_evacuate:
            refused[host] = "host is listed in [host_tasks] deny_evacuate"
    allowed = frozenset(h for h in hosts if h not in refused)
    return GuardDecision(allowed=allowed, refused=refused)


def _refuse_all(hosts: Sequence[str], reason: str, alert: str | None = None) -> GuardDecision:
    return GuardDecision(allowed=frozenset(), refused=dict.fromkeys(hosts, reason), alert=alert)
