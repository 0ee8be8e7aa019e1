"""The balancing planner: a flagged aggregate's model in, an ordered plan of live migrations out.

Sources are the spec's loaded hosts (RAM load above the aggregate's plus ``approx``), most
loaded first. Each source sheds just enough RAM to be loaded no more, in the fewest
migrations: while no single instance covers what is left, the largest one that fits
elsewhere goes; then the smallest one that covers the rest, so the least RAM moves. Every
instance goes to the least loaded host that can take it (``AggregateLoads.can_take``), and
the run stops at ``max_migrations``.
"""

from __future__ import annotations

from cloud_manager.balancing.hosts import AggregateLoads, UnknownAggregate
from cloud_manager.balancing.load import BALANCING_KEY
from cloud_manager.model.actions import LiveMigrate, NotPlanned, Plan, Stage
from cloud_manager.model.cloud import CloudModel, Instance

__all__ = ["UnknownAggregate", "plan_balancing"]


def plan_balancing(model: CloudModel, aggregate: str, approx: float,
                   max_migrations: int) -> Plan:
    """Live migrations that bring every host of ``aggregate`` within ``approx`` of its mean.

    An aggregate without ``balancing=yes`` gets an empty plan that says so. Raises
    ``UnknownAggregate`` when the model has no such aggregate.
    """
    loads = AggregateLoads(model, aggregate, approx)
    warnings = list(model.warnings)
    warnings += [f"{host} left out: {why}" for host, why in loads.left_out]
    if not loads.flagged:
        return Plan(warnings=(*warnings, f"aggregate {aggregate} is not flagged for balancing "
                              f"(metadata {BALANCING_KEY}=yes): left alone"))
    actions: list[LiveMigrate] = []
    skipped: list[NotPlanned] = []
    sources = loads.loaded_hosts()
    for position, source in enumerate(sources):
        candidates = []
        for instance in loads.hosts[source].instances:
            why = loads.why_pinned(instance)
            if why:
                skipped.append(NotPlanned(instance, why))
            else:
                candidates.append(instance)
        candidates.sort(key=lambda i: (i.ram_mb, i.id))
        while loads.excess_mb(source) > 0:
            if len(actions) >= max_migrations:
                left = [s for s in sources[position:] if loads.loaded(s)]
                warnings.append(f"per-run cap of {max_migrations} migrations reached; still "
                                f"loaded: {', '.join(left)} (the next run continues)")
                return _plan(actions, skipped, warnings)
            pick = _pick(loads, source, candidates)
            if pick is None:
                warnings.append(
                    f"{source} stays loaded ({loads.load(source):.2f} > {loads.mean:.2f} + "
                    f"{approx:g}): no instance it may give fits on another host")
                break
            instance, target = pick
            candidates.remove(instance)
            loads.move(instance, target)
            actions.append(LiveMigrate(instance, target))
    return _plan(actions, skipped, warnings)


def _pick(loads: AggregateLoads, source: str,
          candidates: list[Instance]) -> tuple[Instance, str] | None:
    """The next instance to move off ``source`` and where; ``candidates`` smallest first."""
    need, limit = loads.excess_mb(source), loads.removable_mb(source)
    # One instance finishes the source: the smallest that does (least RAM moved).
    for instance in candidates:
        if need <= instance.ram_mb <= limit:
            target = loads.least_loaded_target(instance)
            if target is not None:
                return instance, target
    # Otherwise the largest that fits somewhere (fewest migrations).
    for instance in reversed(candidates):
        if 0 < instance.ram_mb < need:
            target = loads.least_loaded_target(instance)
            if target is not None:
                return instance, target
    return None


def _plan(actions: list[LiveMigrate], skipped: list[NotPlanned], warnings: list[str]) -> Plan:
    stages = (Stage(0, tuple(actions)),) if actions else ()
    return Plan(stages=stages, skipped=tuple(skipped), warnings=tuple(warnings))
