"""Per-host liveness assessment and state machine of the node tracker.

Everything here is pure: the tracker loop gathers `Probes` for a host, passes the current time in,
and gets back a new `NodeRecord` plus the `Transition` to log and act on. Keeping the decisions free
of I/O is what lets us test the one rule that matters most: a host that may still be running its
instances is never declared down early.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal


class NodeState(StrEnum):
    UP = "up"
    SUSPECT = "suspect"
    DOWN = "down"
    FENCED = "fenced"
    EVACUATING = "evacuating"
    EVACUATED = "evacuated"
    RECOVERING = "recovering"
    MAINTENANCE = "maintenance"


class Verdict(StrEnum):
    ALIVE = "alive"
    DEAD = "dead"
    UNKNOWN = "unknown"


_S = NodeState

ALLOWED_TRANSITIONS: dict[NodeState, frozenset[NodeState]] = {
    _S.UP: frozenset({_S.SUSPECT, _S.DOWN, _S.MAINTENANCE}),
    _S.SUSPECT: frozenset({_S.UP, _S.DOWN, _S.MAINTENANCE}),
    _S.DOWN: frozenset({_S.FENCED, _S.RECOVERING, _S.MAINTENANCE}),
    # Evacuating is reachable only from fenced: a host is never evacuated before it is fenced.
    _S.FENCED: frozenset({_S.EVACUATING, _S.RECOVERING, _S.MAINTENANCE}),
    _S.EVACUATING: frozenset({_S.EVACUATED, _S.RECOVERING, _S.MAINTENANCE}),
    _S.EVACUATED: frozenset({_S.RECOVERING, _S.MAINTENANCE}),
    _S.RECOVERING: frozenset({_S.UP, _S.DOWN, _S.MAINTENANCE}),
    _S.MAINTENANCE: frozenset({_S.UP}),
}

# States in which CloudManager holds the host dead; only a sign of life newer than the move
# into them can bring the host back.
RECOVERABLE_STATES = frozenset({_S.DOWN, _S.FENCED, _S.EVACUATING, _S.EVACUATED})


class InvalidTransition(ValueError):
    """Raised when a transition is not in `ALLOWED_TRANSITIONS`."""


@dataclass(frozen=True)
class TrackerPolicy:
    """The [node_tracker] and [extra_availability_check] options the decisions depend on.

    `heartbeat_timeout` and `storage_file_max_age` decide when node-agent evidence is too old to
    prove anything about the host now.
    """

    mutex: int = 3
    mutex_up: int = 1
    heartbeat_timeout: float = 60.0
    instance_rate: float = 100.0
    storage_file_max_age: float = 120.0

    def __post_init__(self) -> None:
        if self.mutex < 1:
            raise ValueError(f"[node_tracker] mutex must be >= 1, got {self.mutex}")
        if self.mutex_up < 1:
            raise ValueError(f"[node_tracker] mutex_up must be >= 1, got {self.mutex_up}")
        if not 0 <= self.instance_rate <= 100:
            raise ValueError(
                f"[extra_availability_check] instance_rate must be 0-100, got {self.instance_rate}"
            )
        if self.heartbeat_timeout <= 0 or self.storage_file_max_age <= 0:
            raise ValueError("heartbeat_timeout and storage_file_max_age must be positive")


@dataclass(frozen=True)
class Probes:
    """One tracker loop's observation of a host.

    `service_up` is the nova-compute service state with forced_down counted as down; None means
    Nova could not be asked this loop, which must never count as evidence of death.
    `power` is None when the host has no power device or it could not be read; "unknown" when
    the device answered something other than a clear on or off (only "off" is evidence).
    `storage_running_rate` (0-100) is None when the extra availability check is disabled or the
    node agent's instance-state file is missing.
    """

    service_up: bool | None
    service_disabled: bool = False
    agent_heartbeat_at: float | None = None
    power: Literal["on", "off", "unknown"] | None = None
    storage_running_rate: float | None = None
    storage_file_at: float | None = None


@dataclass(frozen=True)
class Liveness:
    verdict: Verdict
    reason: str


@dataclass(frozen=True)
class NodeRecord:
    """What the tracker remembers about a host between loops.

    `failed_checks` and `ok_checks` are streaks of consecutive dead / alive checks; `since` is when
    the host entered `state` and `reason` says why it did.
    """

    host: str
    state: NodeState = NodeState.UP
    failed_checks: int = 0
    ok_checks: int = 0
    since: float = 0.0
    reason: str = ""


@dataclass(frozen=True)
class Transition:
    host: str
    from_state: NodeState
    to_state: NodeState
    reason: str
    at: float

    def __str__(self) -> str:
        return f"{self.host}: {self.from_state.value} -> {self.to_state.value} ({self.reason})"


def assess(probes: Probes, policy: TrackerPolicy, now: float) -> Liveness:
    """Decide whether a host is alive from one loop's probes.

    Any positive sign of life wins over a down nova-compute service, because evacuating a host
    that still runs its instances would start them twice on shared storage.
    """
    if probes.power == "off":
        return Liveness(Verdict.DEAD, "power device reports the host powered off")
    if probes.service_up:
        disabled = " (disabled in Nova)" if probes.service_disabled else ""
        return Liveness(Verdict.ALIVE, f"nova-compute service is up{disabled}")

    nova = "nova-compute state unknown" if probes.service_up is None else "nova-compute down"
    heartbeat_age = _age(probes.agent_heartbeat_at, now)
    if heartbeat_age is not None and heartbeat_age < policy.heartbeat_timeout:
        return Liveness(
            Verdict.ALIVE,
            f"{nova} but node agent alive: host may still run instances "
            f"(heartbeat {heartbeat_age:.0f} s ago)",
        )
    storage_age = _age(probes.storage_file_at, now)
    storage_fresh = storage_age is not None and storage_age <= policy.storage_file_max_age
    rate = probes.storage_running_rate
    if storage_fresh and rate is not None and rate >= policy.instance_rate:
        return Liveness(
            Verdict.ALIVE,
            f"{nova} but shared-storage state file shows {rate:g}% of instances running "
            f"(instance_rate={policy.instance_rate:g}%): host may still run instances",
        )

    evidence = [nova, _describe_heartbeat(heartbeat_age)]
    if rate is not None:
        evidence.append(_describe_storage(rate, storage_age, storage_fresh, policy))
    if probes.service_up is None:
        return Liveness(Verdict.UNKNOWN, "; ".join(evidence))
    return Liveness(Verdict.DEAD, "; ".join(evidence))


def observe(
    record: NodeRecord, probes: Probes, policy: TrackerPolicy, now: float
) -> tuple[NodeRecord, Transition | None]:
    """Fold one loop's probes into the host's record.

    Only detection (up/suspect -> down, and recovering -> down for a host that dies again
    before it is back in service) and recovery (down..evacuated -> recovering) are driven by
    probes; every other move is an action's outcome and goes through `mark`. An unknown verdict
    breaks both streaks so that neither death nor recovery is concluded across a gap in evidence.
    """
    if record.state is NodeState.MAINTENANCE:
        return record, None

    liveness = assess(probes, policy, now)
    if liveness.verdict is Verdict.UNKNOWN:
        return dataclasses.replace(record, failed_checks=0, ok_checks=0), None

    alive = liveness.verdict is Verdict.ALIVE
    failed_checks = 0 if alive else record.failed_checks + 1
    ok_checks = record.ok_checks + 1 if alive else 0
    counted = dataclasses.replace(record, failed_checks=failed_checks, ok_checks=ok_checks)

    if record.state in (NodeState.UP, NodeState.SUSPECT) and not alive:
        if failed_checks >= policy.mutex:
            reason = (
                f"{failed_checks} consecutive failed checks (mutex={policy.mutex}): "
                f"{liveness.reason}"
            )
            return _move(counted, NodeState.DOWN, reason, now)
        if record.state is NodeState.UP:
            reason = f"failed check 1 of {policy.mutex}: {liveness.reason}"
            return _move(counted, NodeState.SUSPECT, reason, now)
    elif record.state is NodeState.RECOVERING and not alive:
        if failed_checks >= policy.mutex:
            reason = (
                f"died again while recovering: {failed_checks} consecutive failed checks "
                f"(mutex={policy.mutex}): {liveness.reason}"
            )
            return _move(counted, NodeState.DOWN, reason, now)
    elif record.state is NodeState.SUSPECT and alive:
        reason = f"alive again after {record.failed_checks} failed check(s): {liveness.reason}"
        return _move(counted, NodeState.UP, reason, now)
    elif record.state in RECOVERABLE_STATES and alive and ok_checks >= policy.mutex_up:
        reason = (
            f"seen alive {ok_checks} consecutive time(s) (mutex_up={policy.mutex_up}): "
            f"{liveness.reason}"
        )
        return _move(counted, NodeState.RECOVERING, reason, now)
    return counted, None


def mark(
    record: NodeRecord, to_state: NodeState, reason: str, now: float
) -> tuple[NodeRecord, Transition]:
    """Record the outcome of an action (fencing, evacuation, recovery, maintenance).

    Raises `InvalidTransition` for moves outside `ALLOWED_TRANSITIONS`, e.g. evacuating a host
    that was never fenced. Streaks restart because checks before an action say nothing after it.
    """
    reset = dataclasses.replace(record, failed_checks=0, ok_checks=0)
    return _move(reset, to_state, reason, now)


def _move(
    record: NodeRecord, to_state: NodeState, reason: str, now: float
) -> tuple[NodeRecord, Transition]:
    allowed = ALLOWED_TRANSITIONS[record.state]
    if to_state not in allowed:
        allowed_names = ", ".join(sorted(state.value for state in allowed))
        raise InvalidTransition(
            f"{record.host}: cannot go from {record.state.value} to {to_state.value} "
            f"(allowed from {record.state.value}: {allowed_names}); requested because: {reason}"
        )
    transition = Transition(record.host, record.state, to_state, reason, now)
    return dataclasses.replace(record, state=to_state, since=now, reason=reason), transition


def _age(timestamp: float | None, now: float) -> float | None:
    return None if timestamp is None else now - timestamp


def _describe_heartbeat(age: float | None) -> str:
    if age is None:
        return "no node agent heartbeat"
    return f"node agent silent for {age:.0f} s"


def _describe_storage(rate: float, age: float | None, fresh: bool, policy: TrackerPolicy) -> str:
    if not fresh:
        written = "never" if age is None else f"{age:.0f} s ago"
        return f"shared-storage state file is stale (written {written})"
    return (
        f"shared-storage state file shows {rate:g}% of instances running "
        f"(< instance_rate={policy.instance_rate:g}%)"
    )
