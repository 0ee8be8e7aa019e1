"""The part of the cloud compute drivers that Nova sees: one ``ComputeDriver`` whose
instances live in a public cloud, over the per-cloud ``CloudInstances`` interface.

One nova-compute serves every project bound to its cloud: each call takes the instance's
project, asks the Clouds API for that project's account and short-lived credentials (cached
briefly, ``project_clouds``) and talks to the cloud with them. The OpenStack instance → cloud
instance mapping lives in the Clouds resource map (kind ``instance``), so a restarted
nova-compute finds its instances again. A cloud refusal becomes a Nova exception carrying the
cloud's one line: a failed build is aborted (not rescheduled) with it as the fault.
"""

from __future__ import annotations

import abc
import contextlib
import functools
import io
import logging
import threading
import time
from collections.abc import Iterator
from concurrent import futures
from typing import Any

import os_resource_classes as orc
from keystoneauth1 import exceptions as ks_exc
from nova import context as nova_context
from nova import exception, objects
from nova.compute import power_state, task_states
from nova.conf import CONF
from nova.image import glance
from nova.network import neutron
from nova.objects import fields as obj_fields
from nova.virt import driver, hardware
from nova.virt import node as virt_node
from oslo_serialization import jsonutils
from oslo_utils import versionutils

from clouds_drivers import service_conf, tags
from clouds_drivers.clouds_api import CloudsUnavailable, ProjectCloud
from clouds_drivers.nova.virt import decide
from clouds_drivers.project_clouds import ProjectClouds
from clouds_drivers.providers import compute
from clouds_drivers.providers.base import CloudError

LOG = logging.getLogger(__name__)

#: Normalised cloud state → Nova power state.
POWER_STATES = {compute.PENDING: power_state.NOSTATE, compute.RUNNING: power_state.RUNNING,
                compute.STOPPING: power_state.RUNNING, compute.STOPPED: power_state.SHUTDOWN,
                compute.GONE: power_state.NOSTATE, compute.ERROR: power_state.CRASHED}
#: What the host offers Placement: the cloud has no fixed size, so generous totals that
#: never refuse a flavor the cloud offers (each flavor is one instance type).
CAPACITY = {orc.VCPU: 100_000, orc.MEMORY_MB: 400 * 1024 * 1024, orc.DISK_GB: 1_000_000}
INSTANCE_KIND = "instance"
IMAGE_KIND = "image"


class CloudOperationFailed(exception.NovaException):
    msg_fmt = "%(reason)s"


class CloudDriver(driver.ComputeDriver):
    """A nova-compute whose one node is a cloud account region (per project)."""

    #: The Clouds provider name, Nova's hypervisor_type of the node and the trait's suffix.
    cloud: str
    #: Cinder's connection_info type and the data key holding the cloud volume id.
    volume_type: str
    volume_key: str
    #: Whether the cloud's instances need a network interface (Yandex) or may take the
    #: account's default network (AWS's default VPC).
    needs_port = False

    capabilities = {**driver.ComputeDriver.capabilities, "supports_image_type_raw": True}

    def __init__(self, virtapi: Any, read_only: bool = False) -> None:
        super().__init__(virtapi)
        self.projects = ProjectClouds(service_conf.clouds_client(CONF))
        self._host = CONF.host
        #: instance uuid → (project id, cloud instance id), filled as instances are seen.
        self._known: dict[str, tuple[str, str]] = {}
        self._lock = threading.Lock()
        #: (Neutron network, subnet CIDR) → cloud subnet: a Neutron subnet's cloud subnet
        #: never changes, and asking Neutron and the Clouds API costs two calls per spawn.
        self._subnets: dict[tuple[str, str | None], str] = {}
        #: project id → (its credentials, the cloud API built with them): clients are dear.
        self._apis: dict[str, tuple[dict[str, str], compute.CloudInstances]] = {}
        self._image_api = glance.API()
        #: Writes a launch's resource-map record while the instance boots (see spawn).
        self._recorder = futures.ThreadPoolExecutor(max_workers=8,
                                                    thread_name_prefix="clouds-record")

    # --- what each cloud provides -------------------------------------------------------------

    @abc.abstractmethod
    def instances_of(self, project: ProjectCloud) -> compute.CloudInstances:
        """The project's instances API, with its short-lived credentials."""

    def _api(self, project: ProjectCloud) -> compute.CloudInstances:
        """``instances_of``, built again only when the project's credentials change."""
        with self._lock:
            cached = self._apis.get(project.project_id)
        if cached is not None and cached[0] == project.secrets:
            return cached[1]
        api = self.instances_of(project)
        with self._lock:
            self._apis[project.project_id] = (project.secrets, api)
        return api

    @abc.abstractmethod
    def device_of(self, mountpoint: str) -> str:
        """The cloud's device name for a Nova mountpoint."""

    @property
    def trait(self) -> str:
        return f"CUSTOM_CLOUD_{self.cloud.upper()}"

    # --- host and node ----------------------------------------------------------------------

    def init_host(self, host: str) -> None:
        self._host = host

    def get_available_nodes(self, refresh: bool = False) -> list[str]:
        return [self._host]

    def get_nodenames_by_uuid(self, refresh: bool = False) -> dict[str, str]:
        return {virt_node.get_local_node_uuid(): self._host}

    def node_is_available(self, nodename: str) -> bool:
        return nodename == self._host

    def get_host_ip_addr(self) -> str:
        return CONF.my_ip

    def get_available_resource(self, nodename: str) -> dict[str, Any]:
        return {
            "vcpus": CAPACITY[orc.VCPU], "memory_mb": CAPACITY[orc.MEMORY_MB],
            "local_gb": CAPACITY[orc.DISK_GB], "vcpus_used": 0, "memory_mb_used": 0,
            "local_gb_used": 0, "hypervisor_type": self.cloud,
            "hypervisor_version": versionutils.convert_version_to_int("1.0"),
            "hypervisor_hostname": nodename, "disk_available_least": CAPACITY[orc.DISK_GB],
            "cpu_info": jsonutils.dumps({"arch": "x86_64", "vendor": self.cloud}),
            "supported_instances": [(arch, obj_fields.HVType.KVM, obj_fields.VMMode.HVM)
                                    for arch in (obj_fields.Architecture.X86_64,
                                                 obj_fields.Architecture.AARCH64)],
            "numa_topology": None, "uuid": virt_node.get_local_node_uuid(),
        }

    def update_provider_tree(self, provider_tree: Any, nodename: str,
                             allocations: Any = None) -> None:
        inventory = {rc: {"total": total, "min_unit": 1, "max_unit": total, "step_size": 1,
                          "allocation_ratio": 1.0, "reserved": 0}
                     for rc, total in CAPACITY.items()}
        provider_tree.update_inventory(nodename, inventory)
        provider_tree.add_traits(nodename, self.trait)

    # --- finding an instance ------------------------------------------------------------------

    def _project(self, project_id: str) -> ProjectCloud:
        found = self.projects.get(project_id)
        if found is None or found.provider != self.cloud:
            raise decide.Refused(f"project {project_id} is not bound to {self.cloud} "
                                 f"('openstack aos clouds add {self.cloud} --project …')")
        return found

    def _cloud_id(self, instance: Any) -> str | None:
        with self._lock:
            known = self._known.get(instance.uuid)
        if known is not None:
            return known[1]
        try:
            mapping = self.projects.client.lookup(instance.project_id, INSTANCE_KIND,
                                                  instance.uuid)
        except ks_exc.EndpointNotFound:
            raise CloudsUnavailable("no 'clouds' service in the Keystone catalog") from None
        if mapping is None:
            return None
        self._remember(instance.uuid, instance.project_id, mapping["cloud_resource_id"])
        return mapping["cloud_resource_id"]

    def _remember(self, uuid: str, project_id: str, cloud_id: str | None) -> None:
        with self._lock:
            if cloud_id is None:
                self._known.pop(uuid, None)
            else:
                self._known[uuid] = (project_id, cloud_id)

    def _target(self, instance: Any) -> tuple[compute.CloudInstances, str]:
        """The instance's cloud API and cloud id; InstanceNotFound when it has none."""
        cloud_id = self._cloud_id(instance)
        if cloud_id is None:
            raise exception.InstanceNotFound(instance_id=instance.uuid)
        return self._api(self._project(instance.project_id)), cloud_id

    # --- spawn and destroy ----------------------------------------------------------------------

    def spawn(self, context: Any, instance: Any, image_meta: Any, injected_files: Any,
              admin_password: Any, allocations: Any, network_info: Any = None,
              block_device_info: Any = None, power_on: bool = True,
              accel_info: Any = None) -> None:
        if hasattr(network_info, "wait"):  # Nova allocates ports while the build goes on
            network_info.wait(do_raise=True)
        started = time.monotonic()
        try:
            project = self._project(instance.project_id)
            made = self._launch_recorded(context, instance, project, network_info)
        except (decide.Refused, CloudError, CloudsUnavailable) as exc:
            raise exception.BuildAbortException(instance_uuid=instance.uuid,
                                                reason=f"{self.cloud}: {exc}") from None
        self._remember(instance.uuid, instance.project_id, made.id)
        LOG.info("instance %s of project %s is %s %s (%s); the driver spawned it in %.3f s",
                 instance.uuid, instance.project_id, self.cloud, made.id, made.private_ip,
                 time.monotonic() - started)
        if not power_on:
            self.power_off(instance)

    def _launch_recorded(self, context: Any, instance: Any, project: ProjectCloud,
                         network_info: Any) -> compute.CloudInstance:
        """Launch the instance and record it in the Clouds resource map.

        The record is written while the instance boots, from the moment the cloud names it:
        it adds nothing to the wait for "running", and an instance whose nova-compute dies
        during that wait is in the map for the next one (and for Nova's destroy) to find.
        An instance that cannot be recorded is terminated."""
        api = self._api(project)
        record = functools.partial(self.projects.client.record, instance.project_id,
                                   INSTANCE_KIND, instance.uuid, data={"host": self._host})
        recording: list[futures.Future] = []

        def named(cloud_id: str) -> None:
            recording.append(self._recorder.submit(record, cloud_id))

        spec = self._launch_spec(context, instance, project, network_info)
        try:
            try:
                made = api.launch(spec, started=named)
            except CloudError as exc:
                if not (spec.subnet_id and decide.is_stale_subnet(exc.code)):
                    raise
                # The subnet was re-created since it was cached: ask again, once.
                self._subnets.clear()
                made = api.launch(self._launch_spec(context, instance, project, network_info),
                                  started=named)
        finally:
            futures.wait(recording)  # no write of this launch outlives it
        try:
            for done in recording:
                done.result()
        except Exception:
            api.terminate(made.id)
            raise
        return made

    def _launch_spec(self, context: Any, instance: Any, project: ProjectCloud,
                     network_info: Any) -> compute.Launch:
        image = decide.cloud_image(instance.system_metadata or {}, self.cloud,
                                   instance.image_ref)
        machine = decide.instance_type(instance.flavor.extra_specs or {}, self.cloud,
                                       instance.flavor.name)
        subnet_id = address = None
        port = decide.first_port(network_info or [])
        if port is None and self.needs_port:
            raise decide.Refused(f"a {self.cloud} instance needs a network interface: boot "
                                 "the server on a network of the project")
        if port is not None:
            address = port.address
            subnet_id = self._subnets.get((port.network_id, port.cidr))
            if subnet_id is None:
                subnet_id, address = self._cloud_subnet(context, project, port)
                self._subnets[(port.network_id, port.cidr)] = subnet_id
        return compute.Launch(
            name=instance.uuid, image_id=image, instance_type=machine, zone=project.zone,
            subnet_id=subnet_id, private_ip=address, public_key=instance.key_data or None,
            user_data=decide.user_data(instance.user_data),
            tags=decide.tags(instance.uuid, instance.project_id, self._host),
            root_disk_gb=int(instance.flavor.root_gb or 0))

    def _cloud_subnet(self, context: Any, project: ProjectCloud, port: decide.Port
                      ) -> tuple[str, str]:
        """The cloud subnet the Neutron driver made for the port's subnet, and its address."""
        fixed = neutron.get_client(context, admin=True).show_port(port.port_id)["port"]
        found = decide.port_subnet(fixed.get("fixed_ips", []), port.address)
        if found is None:
            raise decide.Refused(f"port {port.port_id} has no IPv4 address")
        subnet_id, address = found
        mapping = self.projects.client.lookup(project.project_id, "subnet", subnet_id)
        if mapping is None:
            raise decide.Refused(f"subnet {subnet_id} of port {port.port_id} has no "
                                 f"{self.cloud} subnet (create the project's networks after "
                                 "binding it to the cloud)")
        return mapping["cloud_resource_id"], address

    def destroy(self, context: Any, instance: Any, network_info: Any,
                block_device_info: Any = None, destroy_disks: bool = True,
                destroy_secrets: bool = True) -> None:
        with self._errors(instance):
            cloud_id = self._cloud_id(instance)
            if cloud_id is None:
                return
            if self.projects.get(instance.project_id) is None:
                LOG.warning("instance %s: project %s is no longer cloud-bound; %s %s is "
                            "left in the cloud", instance.uuid, instance.project_id,
                            self.cloud, cloud_id)
            else:
                self._api(self._project(instance.project_id)).terminate(cloud_id)
            self.projects.client.forget(instance.project_id, INSTANCE_KIND, instance.uuid)
        self._remember(instance.uuid, instance.project_id, None)
        LOG.info("instance %s: %s %s terminated", instance.uuid, self.cloud, cloud_id)

    def cleanup(self, context: Any, instance: Any, network_info: Any,
                block_device_info: Any = None, destroy_disks: bool = True,
                migrate_data: Any = None, destroy_vifs: bool = True,
                destroy_secrets: bool = True) -> None:
        """Nothing is on this host: the instance and its disks are the cloud's."""

    @contextlib.contextmanager
    def _errors(self, instance: Any) -> Iterator[None]:
        """Cloud and Clouds API failures as a Nova exception with one line."""
        try:
            yield
        except (decide.Refused, CloudError, CloudsUnavailable) as exc:
            raise CloudOperationFailed(
                reason=f"instance {instance.uuid}: {self.cloud}: {exc}") from None

    # --- state --------------------------------------------------------------------------------

    def get_info(self, instance: Any, use_cache: bool = True) -> hardware.InstanceInfo:
        with self._errors(instance):
            api, cloud_id = self._target(instance)
            found = api.find(cloud_id)
        if found is None:
            raise exception.InstanceNotFound(instance_id=instance.uuid)
        return hardware.InstanceInfo(state=POWER_STATES[found.state], internal_id=found.id)

    def instance_exists(self, instance: Any) -> bool:
        try:
            self.get_info(instance)
        except exception.InstanceNotFound:
            return False
        return True

    def list_instance_uuids(self) -> list[str]:
        """The instances tagged with this host in the clouds of the projects it serves: every
        project bound to this cloud, plus those seen since this process started and those
        Nova's database places here (when the Clouds API cannot list the bound ones). So an
        instance left in the cloud after its server's record went (deleted while this
        nova-compute was down) is listed for Nova's cleanup of running deleted instances. A
        project whose cloud cannot answer keeps what this process knew."""
        with self._lock:
            known = dict(self._known)
        projects = ({project for project, _ in known.values()} | self._projects_placed_here()
                    | self._projects_bound_here())
        found: dict[str, tuple[str, str]] = {}
        for project_id in sorted(projects):
            try:
                api = self._api(self._project(project_id))
                for item in api.tagged(decide.TAG_HOST, self._host):
                    server = item.tags.get(tags.TAG_ID)
                    if server:
                        found[server] = (project_id, item.id)
            except (decide.Refused, CloudError, CloudsUnavailable) as exc:
                LOG.warning("instances of project %s on %s not listed from the cloud: %s",
                            project_id, self._host, exc)
                found.update({uuid: entry for uuid, entry in known.items()
                              if entry[0] == project_id})
        with self._lock:
            self._known.update(found)
        return sorted(found)

    def _projects_bound_here(self) -> set[str]:
        try:
            return set(self.projects.client.bound_projects(self.cloud))
        except CloudsUnavailable as exc:
            LOG.warning("projects bound to %s not listed: %s", self.cloud, exc)
            return set()

    def _projects_placed_here(self) -> set[str]:
        try:
            placed = objects.InstanceList.get_by_host(nova_context.get_admin_context(),
                                                      self._host, expected_attrs=[])
        except Exception as exc:  # noqa: BLE001 - listing must not fail Nova's periodic task
            LOG.warning("cannot read the instances Nova places on %s: %s", self._host, exc)
            return set()
        return {instance.project_id for instance in placed}

    def list_instances(self) -> list[str]:
        return self.list_instance_uuids()

    def get_num_instances(self) -> int:
        return len(self.list_instance_uuids())

    # --- power --------------------------------------------------------------------------------

    def power_off(self, instance: Any, timeout: int = 0, retry_interval: int = 0) -> None:
        with self._errors(instance):
            api, cloud_id = self._target(instance)
            api.stop(cloud_id)

    def power_on(self, context: Any, instance: Any, network_info: Any,
                 block_device_info: Any = None, accel_info: Any = None,
                 share_info: Any = None) -> None:
        with self._errors(instance):
            api, cloud_id = self._target(instance)
            api.start(cloud_id)

    def reboot(self, context: Any, instance: Any, network_info: Any, reboot_type: str,
               block_device_info: Any = None, bad_volumes_callback: Any = None,
               accel_info: Any = None, share_info: Any = None) -> None:
        with self._errors(instance):
            api, cloud_id = self._target(instance)
            api.reboot(cloud_id)

    def get_console_output(self, context: Any, instance: Any) -> bytes:
        with self._errors(instance):
            api, cloud_id = self._target(instance)
            return api.console_output(cloud_id).encode("utf-8")

    # --- snapshot -----------------------------------------------------------------------------

    def snapshot(self, context: Any, instance: Any, image_id: str,
                 update_task_state: Any) -> None:
        """A cloud image of the instance, registered back in Glance image ``image_id``.

        The Glance image gets the properties ``clouds images register`` sets, so servers
        boot from it like from a registered image, and as data a one-line record naming
        the cloud image (Glance marks an image active only once it has data; the disks
        themselves stay in the cloud).
        """
        update_task_state(task_state=task_states.IMAGE_PENDING_UPLOAD)
        with self._errors(instance):
            api, cloud_id = self._target(instance)
            cloud_image = api.create_image(cloud_id, decide.snapshot_name(instance.uuid,
                                                                           image_id),
                                           decide.tags(instance.uuid, instance.project_id,
                                                       self._host))
            # Mapped before the Glance image turns active: whoever sees it active finds its
            # cloud image in the map, and a failed Glance update leaves no unmapped image.
            self.projects.client.record(instance.project_id, IMAGE_KIND, image_id,
                                        cloud_image, {"instance": instance.uuid})
            update_task_state(task_state=task_states.IMAGE_UPLOADING,
                              expected_state=task_states.IMAGE_PENDING_UPLOAD)
            self._image_api.update(
                context, image_id,
                {"disk_format": "raw", "container_format": "bare",
                 "properties": {tags.IMAGE_CLOUD_PROPERTY: self.cloud,
                                tags.IMAGE_ID_PROPERTY: cloud_image}},
                data=io.BytesIO(f"{self.cloud} image {cloud_image}\n".encode()),
                purge_props=False)
        LOG.info("snapshot %s of instance %s is %s image %s", image_id, instance.uuid,
                 self.cloud, cloud_image)

    # --- volumes ------------------------------------------------------------------------------

    def get_volume_connector(self, instance: Any) -> dict[str, Any]:
        connector = {"ip": CONF.my_ip, "host": self._host, "initiator": None,
                     "multipath": False, "platform": "x86_64", "os_type": "linux",
                     "cloud": self.cloud}
        with contextlib.suppress(Exception):
            cloud_id = self._cloud_id(instance)
            if cloud_id:
                connector["cloud_instance_id"] = cloud_id
        return connector

    def attach_volume(self, context: Any, connection_info: dict[str, Any], instance: Any,
                      mountpoint: str, disk_bus: Any = None, device_type: Any = None,
                      encryption: Any = None) -> None:
        with self._errors(instance):
            volume = decide.volume_id(connection_info, self.volume_type, self.volume_key)
            api, cloud_id = self._target(instance)
            api.attach_volume(cloud_id, volume, self.device_of(mountpoint))

    def detach_volume(self, context: Any, connection_info: dict[str, Any], instance: Any,
                      mountpoint: str, encryption: Any = None) -> None:
        with self._errors(instance):
            volume = decide.volume_id(connection_info, self.volume_type, self.volume_key)
            api, cloud_id = self._target(instance)
            api.detach_volume(cloud_id, volume, self.device_of(mountpoint))

    # --- networking is Neutron's and the cloud's ----------------------------------------------

    def plug_vifs(self, instance: Any, network_info: Any) -> None:
        """The cloud wires the instance's interface itself."""

    def unplug_vifs(self, instance: Any, network_info: Any) -> None:
        """The cloud unwires the instance's interface itself."""
