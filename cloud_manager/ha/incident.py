"""Whether the tracker asks for an automatic evacuation of a down node: once per incident.

An incident is the node's current stay in ``down`` (it starts with the move there). A task that
ended without moving the node on (refused: no way to fence it; failed: the BMC did not answer)
would fail the same way if asked again every loop, with a new alert each time. It is asked
again only when something changed that can make it work: a power device added or changed
since the task ended. The operator can always ask (``openstack aos node evacuate``), and a
node that comes back and fails again is a new incident.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PastTask:
    """The node's newest task, as plain facts (timestamps in seconds)."""

    id: str
    state: str
    message: str
    created_at: float
    finished_at: float | None


@dataclass(frozen=True)
class IncidentDecision:
    """``request``: ask for a task now, with ``reason``; else ``reason`` says why not."""

    request: bool
    reason: str


def decide_auto_task(incident_since: float, last: PastTask | None,
                     device: str | None, device_changed_at: float | None) -> IncidentDecision:
    """For a down node without an active task, allowed by the guards.

    ``incident_since``: when the node went down; ``device``/``device_changed_at``: its power
    device's name and when it was added or last changed (None: it has none).
    """
    if last is None or last.created_at < incident_since:
        return IncidentDecision(True, "automatic: node is down")
    ended = f"task {last.id} {last.state}: {last.message}"
    if (device is not None and device_changed_at is not None
            and last.finished_at is not None and device_changed_at > last.finished_at):
        return IncidentDecision(
            True, f"automatic: node is down; retried because power device {device} was "
            f"added or changed after {ended}")
    return IncidentDecision(
        False, f"automatic evacuation not asked again for this incident ({ended}); it is "
        "retried once a power device is added or changed, or on the operator's word "
        "(openstack aos node evacuate)")
