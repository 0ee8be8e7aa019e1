"""Small models for balancing tests: hosts given by total RAM and their instances' RAM."""

from __future__ import annotations

from cloud_manager.model.cloud import Aggregate, CloudModel, Instance, ServerGroup, TargetHost


def instance(iid: str, host: str, ram: int, vcpus: int = 1, disk: int = 10, **kw) -> Instance:
    return Instance(id=iid, name=f"vm-{iid}", host=host, priority=0, ram_mb=ram, vcpus=vcpus,
                    disk_gb=disk, **kw)


def host(name: str, ram: int, instances: list[Instance], vcpus: int = 64, disk: int = 2000,
         ram_ratio: float = 1.0, **kw) -> TargetHost:
    """A host whose Placement free capacity is what its instances leave (ratios applied)."""
    used = sum(i.ram_mb for i in instances)
    return TargetHost(name=name, free_ram_mb=int(ram * ram_ratio) - used,
                      free_vcpus=vcpus - sum(i.vcpus for i in instances),
                      free_disk_gb=disk - sum(i.disk_gb for i in instances),
                      ram_mb=ram, used_ram_mb=used, **kw)


def model(layout: dict[str, tuple[int, list[int]]], flagged: bool = True,
          groups: tuple[ServerGroup, ...] = (), extra: tuple[Instance, ...] = (),
          host_options: dict[str, dict] | None = None) -> CloudModel:
    """``layout``: host -> (total RAM, [RAM of each instance]); instance ids are host-n."""
    instances: list[Instance] = list(extra)
    hosts = []
    for name, (ram, rams) in layout.items():
        mine = [instance(f"{name}-{n}", name, r) for n, r in enumerate(rams)]
        mine += [i for i in extra if i.host == name]
        instances += [i for i in mine if i not in extra]
        hosts.append(host(name, ram, mine, **(host_options or {}).get(name, {})))
    metadata = {"balancing": "yes"} if flagged else {}
    return CloudModel(hosts=tuple(hosts), instances=tuple(instances),
                      aggregates=(Aggregate("agg", tuple(layout), metadata),),
                      server_groups=groups)
