"""Recovery priority of an instance: which instances run again first after a host failure.

0 means "never evacuate" and 10 means "first". A server's own metadata overrides its flavor so
that one instance can be singled out without a new flavor.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

RECOVERY_PRIORITY_KEY = "aos:recovery_priority"
MIN_PRIORITY = 0
MAX_PRIORITY = 10

PrioritySource = Literal["server", "flavor", "default"]

_INTEGER = re.compile(r"[+-]?[0-9]+")


@dataclass(frozen=True)
class Priority:
    """`warning` explains every ignored bad value so an operator can fix the metadata."""

    value: int
    source: PrioritySource
    warning: str | None = None


def resolve_priority(
    server_metadata: Mapping[str, str],
    flavor_extra_specs: Mapping[str, str],
    default: int,
) -> Priority:
    """Pick the priority from server metadata, else flavor extra specs, else `default`.

    A bad value must not make an instance unrecoverable, so it is skipped with a warning and the
    next source is used instead of failing the whole evacuation.
    """
    if isinstance(default, bool) or not isinstance(default, int) or not _in_range(default):
        raise ValueError(
            f"[host_tasks] recovery_priority must be an integer "
            f"{MIN_PRIORITY}-{MAX_PRIORITY}, got {default!r}"
        )
    warnings: list[str] = []
    sources: tuple[tuple[PrioritySource, Mapping[str, str]], ...] = (
        ("server", server_metadata),
        ("flavor", flavor_extra_specs),
    )
    for source, values in sources:
        if RECOVERY_PRIORITY_KEY not in values:
            continue
        raw = values[RECOVERY_PRIORITY_KEY]
        value = _parse(raw)
        if value is not None:
            return Priority(value, source, _join(warnings))
        warnings.append(
            f"ignoring {RECOVERY_PRIORITY_KEY}={raw!r} in {source} "
            f"{'metadata' if source == 'server' else 'extra specs'}: "
            f"expected an integer {MIN_PRIORITY}-{MAX_PRIORITY}"
        )
    return Priority(default, "default", _join(warnings))


def _parse(raw: object) -> int | None:
    if not isinstance(raw, str) or not _INTEGER.fullmatch(raw.strip()):
        return None
    value = int(raw)
    return value if _in_range(value) else None


def _in_range(value: int) -> bool:
    return MIN_PRIORITY <= value <= MAX_PRIORITY


def _join(warnings: list[str]) -> str | None:
    return "; ".join(warnings) if warnings else None
