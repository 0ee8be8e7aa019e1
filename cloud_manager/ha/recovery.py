"""How a recovered node goes back to Nova: its ``SetServiceState`` actions (pure)."""

from __future__ import annotations

from dataclasses import dataclass

from cloud_manager.model.actions import SetServiceState

RESERVE_REASON = "aos: reserve node"


@dataclass(frozen=True)
class ReturnToService:
    """``unforce`` (None: not forced down) first; ``back`` only once Nova sees the service
    up: enabled earlier, Nova would skip telling the compute to drop its
    COMPUTE_STATUS_DISABLED trait, and the scheduler would ignore the host."""

    unforce: SetServiceState | None
    back: SetServiceState


def return_to_service(host: str, forced_down: bool, reserve: bool) -> ReturnToService:
    """A reserve node stays disabled (it is kept for evacuations); any other is enabled."""
    return ReturnToService(
        unforce=SetServiceState(host, forced_down=False) if forced_down else None,
        back=SetServiceState(host, enabled=False, reason=RESERVE_REASON) if reserve
        else SetServiceState(host, enabled=True))
