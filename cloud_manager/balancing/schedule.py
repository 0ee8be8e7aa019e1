"""When the periodic balancing asks for a run: ``[balancing] periodic_time`` hours after the
aggregate's last balancing task started (at once when it never had one)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence


def aggregates_due(flagged: Sequence[str], last_started: Mapping[str, float], now: float,
                   period_s: float) -> list[str]:
    """The flagged aggregates whose last run started ``period_s`` or more before ``now``."""
    return [name for name in flagged
            if name not in last_started or now - last_started[name] >= period_s]
