"""The spec's definitions: a host's RAM load, the aggregate's, and when a host is "loaded".

Spec 001, ``[balancing] approx``: a node is loaded when its occupied RAM over its total RAM
exceeds the occupied RAM of all nodes taken for balancing over their total RAM, plus approx.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

# Aggregate metadata key that flags an aggregate for balancing (``balancing=yes``).
BALANCING_KEY = "balancing"
_YES = frozenset({"yes", "true", "1", "on"})


def is_flagged(metadata: Mapping[str, str]) -> bool:
    """Only aggregates whose metadata says ``balancing=yes`` (or true/1/on) are balanced."""
    return str(metadata.get(BALANCING_KEY, "")).strip().lower() in _YES


def ram_load(used_mb: float, total_mb: float) -> float:
    return used_mb / total_mb if total_mb > 0 else 0.0


def mean_load(hosts: Iterable[tuple[float, float]]) -> float:
    """The aggregate's load from (used, total) per host: sum of used over sum of totals (a
    large host weighs more, as the spec's example computes it)."""
    pairs = list(hosts)
    return ram_load(sum(used for used, _ in pairs), sum(total for _, total in pairs))


def is_loaded(load: float, mean: float, approx: float) -> bool:
    return load > mean + approx
