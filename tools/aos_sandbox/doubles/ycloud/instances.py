"""Compute instances of the Yandex double: create/list/start/stop/restart/delete, disks, NAT.

Mirrors the preconditions the real service enforces (state for start/stop, disk attachment,
zone of subnets and disks), so the hybrid-cloud code meets the same errors it would in Yandex.
"""

from __future__ import annotations

import secrets

from yandex.cloud.compute.v1 import (
    instance_pb2,
    instance_service_pb2_grpc,
)
from yandex.cloud.compute.v1 import (
    instance_service_pb2 as svc,
)

from .disks import new_disk, usable_disk
from .operations import finished
from .state import Cloud, check_name, clone, invalid, listed, new_id, now, precondition
from .vpc import allocate_external, allocate_internal, reserved_external, set_address_used

Instance = instance_pb2.Instance
PLATFORMS = ("standard-v1", "standard-v2", "standard-v3", "highfreq-v3", "gpu-standard-v3")
CORE_FRACTIONS = (0, 5, 20, 50, 100)


def _status_name(instance: instance_pb2.Instance) -> str:
    return Instance.Status.Name(instance.status)


def _require_status(instance: instance_pb2.Instance, *allowed: int) -> None:
    if instance.status not in allowed:
        wanted = " or ".join(Instance.Status.Name(s) for s in allowed)
        raise precondition(
            f"Instance {instance.id} is {_status_name(instance)}, the operation needs {wanted}"
        )


def _mac() -> str:
    return "d0:0d:" + ":".join(secrets.token_hex(1) for _ in range(4))


class InstanceService(instance_service_pb2_grpc.InstanceServiceServicer):
    def __init__(self, cloud: Cloud):
        self.cloud = cloud

    def _instance(self, instance_id: str) -> instance_pb2.Instance:
        return self.cloud.get(self.cloud.instances, "Instance", instance_id)

    # --- read -------------------------------------------------------------------------------

    def Get(self, request, context):  # noqa: N802 - gRPC method names
        return clone(self._instance(request.instance_id))

    def List(self, request, context):  # noqa: N802
        self.cloud.folder(request.folder_id)
        items, token = listed(
            self.cloud.instances.values(),
            request.folder_id,
            request.filter,
            request.page_size,
            request.page_token,
        )
        return svc.ListInstancesResponse(instances=items, next_page_token=token)

    # --- create / delete --------------------------------------------------------------------

    def _validate_resources(self, request: svc.CreateInstanceRequest) -> None:
        if request.platform_id and request.platform_id not in PLATFORMS:
            raise invalid("platform_id", f"Platform {request.platform_id} not found")
        res = request.resources_spec
        if res.cores <= 0:
            raise invalid("resources_spec.cores", "Field is required")
        if res.memory <= 0:
            raise invalid("resources_spec.memory", "Field is required")
        if res.memory % (256 * 1024 * 1024):
            raise invalid("resources_spec.memory", "must be a multiple of 256 MiB")
        if res.core_fraction not in CORE_FRACTIONS:
            raise invalid("resources_spec.core_fraction", f"must be one of {CORE_FRACTIONS[1:]}")

    def _attach_spec(
        self, spec, instance: instance_pb2.Instance, created: list[str]
    ) -> instance_pb2.AttachedDisk:
        """Resolve an AttachedDiskSpec (new disk or existing one) into an AttachedDisk."""
        if spec.WhichOneof("disk") == "disk_spec":
            ds = spec.disk_spec
            disk = new_disk(
                self.cloud,
                instance.folder_id,
                instance.zone_id,
                ds.name,
                ds.description,
                ds.type_id,
                ds.size,
                ds.image_id,
                ds.snapshot_id,
            )
            created.append(disk.id)
        elif spec.WhichOneof("disk") == "disk_id":
            disk = usable_disk(self.cloud, spec.disk_id, instance.zone_id)
        else:
            raise invalid("attached_disk_spec.disk", "one of disk_spec or disk_id is required")
        device_name = spec.device_name or disk.id
        taken = [instance.boot_disk.device_name] + [d.device_name for d in instance.secondary_disks]
        if device_name in taken:
            raise precondition(
                f"Device name {device_name} is already used on instance {instance.id}"
            )
        disk.instance_ids.append(instance.id)
        return instance_pb2.AttachedDisk(
            mode=spec.mode or instance_pb2.AttachedDisk.READ_WRITE,
            device_name=device_name,
            auto_delete=spec.auto_delete,
            disk_id=disk.id,
        )

    def _add_interface(self, spec, instance: instance_pb2.Instance, index: int) -> None:
        subnet = self.cloud.get(self.cloud.subnets, "Subnet", spec.subnet_id)
        if subnet.zone_id != instance.zone_id:
            raise precondition(
                f"Subnet {subnet.id} is in zone {subnet.zone_id}, "
                f"the instance is in {instance.zone_id}"
            )
        nic = instance.network_interfaces.add(
            index=spec.index or str(index),
            mac_address=_mac(),
            subnet_id=subnet.id,
            security_group_ids=list(spec.security_group_ids),
        )
        addr_spec = spec.primary_v4_address_spec
        nic.primary_v4_address.address = allocate_internal(self.cloud, subnet, addr_spec.address)
        if addr_spec.HasField("one_to_one_nat_spec"):
            nat = addr_spec.one_to_one_nat_spec
            if nat.address:
                reserved_external(self.cloud, instance.folder_id, instance.zone_id, nat.address)
                public_ip = nat.address
            else:
                public_ip = allocate_external(self.cloud)
            nic.primary_v4_address.one_to_one_nat.address = public_ip
            nic.primary_v4_address.one_to_one_nat.ip_version = instance_pb2.IPV4
        # Visible to used_internal() before the next interface allocates.
        self.cloud.instances[instance.id] = instance

    def Create(self, request, context):  # noqa: N802
        folder_id = self.cloud.folder(request.folder_id)
        zone_id = self.cloud.zone(request.zone_id)
        check_name("Instance", request.name, self.cloud.instances, folder_id)
        self._validate_resources(request)
        if not request.HasField("boot_disk_spec"):
            raise invalid("boot_disk_spec", "Field is required")
        if not request.network_interface_specs:
            raise invalid("network_interface_specs", "Field is required")
        res = request.resources_spec
        instance = instance_pb2.Instance(
            id=new_id("fhm"),
            folder_id=folder_id,
            created_at=now(),
            name=request.name,
            description=request.description,
            labels=dict(request.labels),
            zone_id=zone_id,
            platform_id=request.platform_id or "standard-v3",
            resources=instance_pb2.Resources(
                cores=res.cores,
                memory=res.memory,
                core_fraction=res.core_fraction or 100,
                gpus=res.gpus,
            ),
            status=Instance.RUNNING,
            metadata=dict(request.metadata),
            service_account_id=request.service_account_id,
        )
        instance.fqdn = f"{request.hostname or instance.id}.auto.internal"
        for name in (
            "scheduling_policy",
            "network_settings",
            "placement_policy",
            "metadata_options",
        ):
            if request.HasField(name):
                getattr(instance, name).CopyFrom(getattr(request, name))
        created_disks: list[str] = []
        try:
            instance.boot_disk.CopyFrom(
                self._attach_spec(request.boot_disk_spec, instance, created_disks)
            )
            for spec in request.secondary_disk_specs:
                instance.secondary_disks.append(self._attach_spec(spec, instance, created_disks))
            for index, spec in enumerate(request.network_interface_specs):
                self._add_interface(spec, instance, index)
        except Exception:
            self._rollback(instance, created_disks)
            raise
        for nic in instance.network_interfaces:
            set_address_used(self.cloud, nic.primary_v4_address.one_to_one_nat.address, True)
        self.cloud.instances[instance.id] = instance
        meta = svc.CreateInstanceMetadata(instance_id=instance.id)
        return finished(self.cloud, "Create instance", meta, instance)

    def _rollback(self, instance: instance_pb2.Instance, created_disks: list[str]) -> None:
        """Undo a half-done Create so a failed call leaves no trace, as in Yandex."""
        self.cloud.instances.pop(instance.id, None)
        for disk in self.cloud.disks.values():
            if instance.id in disk.instance_ids:
                disk.instance_ids.remove(instance.id)
        for disk_id in created_disks:
            self.cloud.disks.pop(disk_id, None)

    def Delete(self, request, context):  # noqa: N802
        instance = self._instance(request.instance_id)
        for attached in [instance.boot_disk, *instance.secondary_disks]:
            disk = self.cloud.disks.get(attached.disk_id)
            if disk is None:
                continue
            if attached.auto_delete:
                del self.cloud.disks[disk.id]
            elif instance.id in disk.instance_ids:
                disk.instance_ids.remove(instance.id)
        for nic in instance.network_interfaces:
            set_address_used(self.cloud, nic.primary_v4_address.one_to_one_nat.address, False)
        del self.cloud.instances[instance.id]
        return finished(
            self.cloud, "Delete instance", svc.DeleteInstanceMetadata(instance_id=instance.id)
        )

    # --- power ------------------------------------------------------------------------------

    def Start(self, request, context):  # noqa: N802
        instance = self._instance(request.instance_id)
        _require_status(instance, Instance.STOPPED)
        instance.status = Instance.RUNNING
        meta = svc.StartInstanceMetadata(instance_id=instance.id)
        return finished(self.cloud, "Start instance", meta, instance)

    def Stop(self, request, context):  # noqa: N802
        instance = self._instance(request.instance_id)
        _require_status(instance, Instance.RUNNING)
        instance.status = Instance.STOPPED
        return finished(
            self.cloud, "Stop instance", svc.StopInstanceMetadata(instance_id=instance.id)
        )

    def Restart(self, request, context):  # noqa: N802
        instance = self._instance(request.instance_id)
        _require_status(instance, Instance.RUNNING)
        return finished(
            self.cloud, "Restart instance", svc.RestartInstanceMetadata(instance_id=instance.id)
        )

    def GetSerialPortOutput(self, request, context):  # noqa: N802
        """What a booted guest prints: its id and status (the double runs no guest)."""
        instance = self._instance(request.instance_id)
        status = Instance.Status.Name(instance.status)
        return svc.GetInstanceSerialPortOutputResponse(
            contents=f"Yandex double: serial console of {instance.id} ({instance.name}), "
            f"{status}\n")

    # --- disks and metadata -----------------------------------------------------------------

    def AttachDisk(self, request, context):  # noqa: N802
        instance = self._instance(request.instance_id)
        _require_status(instance, Instance.RUNNING, Instance.STOPPED)
        spec = request.attached_disk_spec
        if spec.WhichOneof("disk") != "disk_id" and not spec.HasField("disk_spec"):
            raise invalid("attached_disk_spec", "Field is required")
        attached = self._attach_spec(spec, instance, [])
        instance.secondary_disks.append(attached)
        meta = svc.AttachInstanceDiskMetadata(instance_id=instance.id, disk_id=attached.disk_id)
        return finished(self.cloud, "Attach disk", meta, instance)

    def DetachDisk(self, request, context):  # noqa: N802
        instance = self._instance(request.instance_id)
        which = request.WhichOneof("disk")
        if which is None:
            raise invalid("disk", "one of disk_id or device_name is required")
        value = getattr(request, which)
        key = "disk_id" if which == "disk_id" else "device_name"
        if getattr(instance.boot_disk, key) == value:
            raise precondition(
                f"Boot disk {instance.boot_disk.disk_id} cannot be detached "
                f"from instance {instance.id}"
            )
        found = [i for i, d in enumerate(instance.secondary_disks) if getattr(d, key) == value]
        if not found:
            raise precondition(f"Disk {value} is not attached to instance {instance.id}")
        disk_id = instance.secondary_disks[found[0]].disk_id
        del instance.secondary_disks[found[0]]
        disk = self.cloud.disks.get(disk_id)
        if disk is not None and instance.id in disk.instance_ids:
            disk.instance_ids.remove(instance.id)
        meta = svc.DetachInstanceDiskMetadata(instance_id=instance.id, disk_id=disk_id)
        return finished(self.cloud, "Detach disk", meta, instance)

    def UpdateMetadata(self, request, context):  # noqa: N802
        instance = self._instance(request.instance_id)
        metadata = {k: v for k, v in instance.metadata.items() if k not in request.delete}
        metadata.update(request.upsert)
        if sum(len(k) + len(v) for k, v in metadata.items()) > 512 * 1024:
            raise invalid("upsert", "metadata is larger than 512 KiB")
        instance.metadata.clear()
        instance.metadata.update(metadata)
        meta = svc.UpdateInstanceMetadataMetadata(instance_id=instance.id)
        return finished(self.cloud, "Update instance metadata", meta, instance)

    # --- one-to-one NAT ---------------------------------------------------------------------

    def _nic(self, instance: instance_pb2.Instance, index: str):
        for nic in instance.network_interfaces:
            if nic.index == (index or "0"):
                return nic
        raise invalid("network_interface_index", f"instance has no interface {index!r}")

    def AddOneToOneNat(self, request, context):  # noqa: N802
        instance = self._instance(request.instance_id)
        nic = self._nic(instance, request.network_interface_index)
        if nic.primary_v4_address.one_to_one_nat.address:
            raise precondition(f"Interface {nic.index} of {instance.id} already has a one-to-one "
                               "NAT")
        wanted = request.one_to_one_nat_spec.address
        if wanted:
            reserved_external(self.cloud, instance.folder_id, instance.zone_id, wanted)
            public_ip = wanted
        else:
            public_ip = allocate_external(self.cloud)
        nic.primary_v4_address.one_to_one_nat.address = public_ip
        nic.primary_v4_address.one_to_one_nat.ip_version = instance_pb2.IPV4
        set_address_used(self.cloud, public_ip, True)
        meta = svc.AddInstanceOneToOneNatMetadata(instance_id=instance.id)
        return finished(self.cloud, "Add one-to-one NAT", meta, clone(instance))

    def RemoveOneToOneNat(self, request, context):  # noqa: N802
        instance = self._instance(request.instance_id)
        nic = self._nic(instance, request.network_interface_index)
        public_ip = nic.primary_v4_address.one_to_one_nat.address
        if public_ip:
            set_address_used(self.cloud, public_ip, False)
            nic.primary_v4_address.ClearField("one_to_one_nat")
        meta = svc.RemoveInstanceOneToOneNatMetadata(instance_id=instance.id)
        return finished(self.cloud, "Remove one-to-one NAT", meta, clone(instance))
