"""Spec 000's Nova compute driver on the sandbox: nova-compute ``aws-compute`` runs
``compute_driver = clouds_drivers.nova.virt.ec2.EC2Driver`` (loaded through the import hook
the clouds-drivers wheel installs), nova-scheduler runs ``CloudProjectFilter`` as the spec
configures it, Neutron runs the ``aws`` drivers, the Clouds API is in the catalog and moto
is AWS.

The spec's project setup, then a server's life in the AWS-bound project, checking after
each step what moto holds: the instance's state, its private IP (the Neutron port's),
subnet (the one the Neutron driver made) and tags naming the OpenStack ids; a floating IP
as an Elastic IP (rows 6-7 of the correspondence table); nothing left after delete.
"""

from __future__ import annotations

import contextlib
import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from yandex.cloud.compute.v1 import instance_pb2

from tests.cli import Result
from tests.functional.clouds_harness import Clouds, external_network, registered_clouds_api
from tests.functional.yandex_vpc import YandexVpc
from tools.aos_sandbox import aws_project as aws_project_setup
from tools.aos_sandbox.client import connect

pytestmark = pytest.mark.functional

AWS_HOST = aws_project_setup.AWS_HOST
SPEC_AMI = aws_project_setup.SPEC_AMI


def ok(result: Result) -> Any:
    assert result.code == 0, result.err
    return result.json() if result.out.strip() else None


@pytest.fixture(scope="module")
def clouds(sandbox, tmp_path_factory) -> Iterator[Clouds]:
    assert AWS_HOST in sandbox.info.get("cloud_hosts", {}), "the sandbox runs no aws-compute"
    with registered_clouds_api(sandbox, tmp_path_factory.mktemp("clouds")) as api:
        yield api


@pytest.fixture
def ec2(sandbox) -> Any:
    return aws_project_setup.ec2(sandbox.info["doubles"]["aws"]["endpoint_url"])


@contextlib.contextmanager
def aws_project(clouds: Clouds, sandbox, project) -> Iterator[dict[str, Any]]:
    """The guide's project setup; the admin's connection in the project; all undone after."""
    admin = sandbox.conn("admin")
    try:
        ids = aws_project_setup.bind(
            lambda *args: ok(clouds.openstack(*args, "-f", "json")), admin, project,
            sandbox.info["admin"]["username"])
        conn = connect(sandbox.info["auth_url"],
                       {**sandbox.info["admin"], "project_name": project.name},
                       sandbox.info["region"])
        yield {"conn": conn, **ids}
    finally:
        aws_project_setup.clean(admin, project.id)
        clouds.openstack("aos", "clouds", "delete", "--project", project.name, "--force")


def _tags(item: dict[str, Any]) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in item.get("Tags", [])}


def cloud_instances(ec2: Any, server_id: str) -> list[dict[str, Any]]:
    """The moto instances tagged with the server's id, terminated ones left out."""
    found = ec2.describe_instances(Filters=[{"Name": "tag:openstack:id",
                                             "Values": [server_id]}])
    return [i for r in found["Reservations"] for i in r["Instances"]
            if i["State"]["Name"] != "terminated"]


def one_instance(ec2: Any, server_id: str) -> dict[str, Any]:
    found = cloud_instances(ec2, server_id)
    assert len(found) == 1, found
    return found[0]


def resource_map(clouds: Clouds, project_id: str) -> dict[tuple[str, str], str]:
    answer = clouds.sandbox.conn("admin").session.get(
        f"{clouds.url}/v1/clouds/{project_id}/resources")
    assert answer.status_code == 200, answer.text
    return {(r["kind"], r["openstack_id"]): r["cloud_resource_id"] for r in answer.json()}


def wait_status(conn: Any, server: Any, status: str, timeout: float = 120) -> Any:
    return conn.compute.wait_for_server(server, status=status, failures=["ERROR"],
                                        wait=timeout, interval=1)


def wait_idle(conn: Any, server: Any, status: str = "ACTIVE", timeout: float = 120) -> Any:
    """``status`` and no task under way (a soft reboot shows ACTIVE while it runs)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = conn.compute.get_server(server)
        assert found.status != "ERROR", found.fault
        if found.status == status and not found.task_state:
            return found
        time.sleep(0.5)
    raise TimeoutError(f"server {server.id} is not {status} and idle")


def build_host(admin: Any, server_id: str) -> str | None:
    """The host whose nova-compute ran the build (a failed build clears the server's host,
    the instance action's events keep it; microversion 2.62)."""
    actions = admin.compute.get(f"/servers/{server_id}/os-instance-actions",
                                microversion="2.62").json()["instanceActions"]
    create = next(a for a in actions if a["action"] == "create")
    action = admin.compute.get(f"/servers/{server_id}/os-instance-actions/"
                               f"{create['request_id']}", microversion="2.62").json()
    hosts = {e.get("host") for e in action["instanceAction"]["events"]} - {None, ""}
    return hosts.pop() if len(hosts) == 1 else None


def wait_error(conn: Any, server: Any, timeout: float = 120) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = conn.compute.get_server(server)
        if found.status == "ERROR":
            return found
        assert found.status in ("BUILD", "ACTIVE") or found.status is None, found.status
        time.sleep(1)
    raise TimeoutError(f"server {server.id} did not go to ERROR")


def test_a_server_of_the_aws_project_lives_in_ec2(clouds, sandbox, project, ec2):
    admin = sandbox.conn("admin")
    with aws_project(clouds, sandbox, project) as aws:
        conn, pid = aws["conn"], project.id
        net, subnet = aws_project_setup.network(conn, "10.61.1")
        cloud_subnet = resource_map(clouds, pid)[("subnet", subnet.id)]
        keypair = conn.compute.create_keypair(name=f"k-{uuid.uuid4().hex[:8]}",
                                              public_key=aws_project_setup.public_key())
        try:
            # boot: the registered AMI, the flavor's type, the port's subnet and address
            server = conn.compute.create_server(
                name="in-aws", image_id=aws["image"], flavor_id=aws["flavor"],
                networks=[{"uuid": net.id}], key_name=keypair.name,
                user_data="I2Nsb3VkLWNvbmZpZwo=")
            server = wait_status(conn, server, "ACTIVE")
            assert admin.compute.get_server(server.id).compute_host == AWS_HOST
            (port,) = conn.network.ports(device_id=server.id)
            address = port.fixed_ips[0]["ip_address"]
            item = one_instance(ec2, server.id)
            assert item["State"]["Name"] == "running"
            assert (item["ImageId"], item["InstanceType"]) == (SPEC_AMI, "t3.micro")
            assert (item["PrivateIpAddress"], item["SubnetId"]) == (address, cloud_subnet)
            assert item["KeyName"] == f"openstack-{server.id}"
            root = next(m["Ebs"]["VolumeId"] for m in item["BlockDeviceMappings"]
                        if m["DeviceName"] == item["RootDeviceName"])
            flavor_disk = admin.compute.get_flavor(aws["flavor"]).disk
            assert ec2.describe_volumes(VolumeIds=[root])["Volumes"][0]["Size"] == flavor_disk
            tags = _tags(item)
            assert (tags["openstack:id"], tags["openstack:project"],
                    tags["openstack:host"]) == (server.id, pid, AWS_HOST)
            assert resource_map(clouds, pid)[("instance", server.id)] == item["InstanceId"]

            # stop, start, reboot
            conn.compute.stop_server(server)
            wait_idle(conn, server, "SHUTOFF")
            assert one_instance(ec2, server.id)["State"]["Name"] == "stopped"
            conn.compute.start_server(server)
            wait_idle(conn, server)
            assert one_instance(ec2, server.id)["State"]["Name"] == "running"
            conn.compute.reboot_server(server, "SOFT")
            wait_idle(conn, server)
            assert one_instance(ec2, server.id)["State"]["Name"] == "running"

            # a volume (an EBS volume of the project's cloud) attached and detached by Nova
            storage = conn.block_storage
            volume = storage.wait_for_status(storage.create_volume(size=1), "available",
                                             failures=["error"], wait=120, interval=1)
            ebs_id = resource_map(clouds, pid)[("volume", volume.id)]
            conn.compute.create_volume_attachment(server, volume_id=volume.id)
            storage.wait_for_status(volume, "in-use", failures=["error"], wait=120, interval=1)
            (ebs,) = ec2.describe_volumes(VolumeIds=[ebs_id])["Volumes"]
            assert [a["InstanceId"] for a in ebs["Attachments"]] == [item["InstanceId"]]
            conn.compute.delete_volume_attachment(volume.id, server)
            storage.wait_for_status(volume, "available", failures=["error"], wait=120,
                                    interval=1)
            assert ec2.describe_volumes(VolumeIds=[ebs_id])["Volumes"][0]["Attachments"] == []
            storage.delete_volume(volume)
            storage.wait_for_delete(volume, wait=120, interval=1)

            # console log: EC2's console output
            console = conn.compute.get_server_console_output(server)["output"]
            assert console.strip()

            # snapshot: CreateImage, registered back in Glance pointing at the new AMI
            snapshot_id = conn.compute.create_server_image(server, name="aws-snap")
            if not isinstance(snapshot_id, str):
                snapshot_id = snapshot_id.id
            image = conn.image.wait_for_status(conn.image.get_image(snapshot_id), "active",
                                               failures=["killed"], wait=120, interval=1)
            ami = image.properties["aos_cloud_image_id"]
            assert image.properties["aos_cloud"] == "aws"
            (described,) = ec2.describe_images(ImageIds=[ami])["Images"]
            assert _tags(described)["openstack:id"] == server.id
            assert resource_map(clouds, pid)[("image", snapshot_id)] == ami
            wait_idle(conn, server)

            # floating IP (rows 6-7): an Elastic IP with its address, on the instance
            ext = external_network(admin)
            try:
                router = conn.network.create_router(
                    name="aws-router", external_gateway_info={"network_id": ext.id})
                conn.network.add_interface_to_router(router, subnet_id=subnet.id)
                fip = conn.network.create_ip(floating_network_id=ext.id, port_id=port.id)
                (eip,) = ec2.describe_addresses(
                    Filters=[{"Name": "public-ip", "Values": [fip.floating_ip_address]}]
                )["Addresses"]
                assert (eip["InstanceId"], eip["PrivateIpAddress"]) == \
                    (item["InstanceId"], address)
                assert _tags(eip)["openstack:id"] == fip.id
                conn.network.delete_ip(fip)
                assert ec2.describe_addresses(Filters=[{
                    "Name": "public-ip", "Values": [fip.floating_ip_address]}])[
                    "Addresses"] == []
                fip = conn.network.create_ip(floating_network_id=ext.id, port_id=port.id)
                assert len(ec2.describe_addresses(Filters=[{
                    "Name": "public-ip", "Values": [fip.floating_ip_address]}])[
                    "Addresses"]) == 1

                # delete: instance terminated, key pair, Elastic IP and mappings gone
                conn.compute.delete_server(server)
                conn.compute.wait_for_delete(server, wait=120, interval=1)
                assert cloud_instances(ec2, server.id) == []
                assert f"openstack-{server.id}" not in {
                    k["KeyName"] for k in ec2.describe_key_pairs()["KeyPairs"]}
                assert ec2.describe_addresses(Filters=[{
                    "Name": "public-ip", "Values": [fip.floating_ip_address]}])[
                    "Addresses"] == []
                mapped = resource_map(clouds, pid)
                assert ("instance", server.id) not in mapped
                assert ("floating_ip", fip.id) not in mapped
            finally:
                for fip in admin.network.ips(project_id=pid):
                    admin.network.delete_ip(fip, ignore_missing=True)
                for router in admin.network.routers(project_id=pid):
                    with contextlib.suppress(Exception):
                        admin.network.remove_interface_from_router(router,
                                                                   subnet_id=subnet.id)
                    admin.network.delete_router(router, ignore_missing=True)
                admin.network.delete_network(ext, ignore_missing=True)
            ec2.deregister_image(ImageId=ami)
        finally:
            conn.compute.delete_keypair(keypair, ignore_missing=True)


def test_an_unknown_instance_type_gives_error_with_the_clouds_message(clouds, sandbox,
                                                                      project, ec2):
    admin = sandbox.conn("admin")
    with aws_project(clouds, sandbox, project) as aws:
        flavor = admin.compute.create_flavor(name=f"{project.name}.t3.nosuch", vcpus=1,
                                             ram=512, disk=0, is_public=False)
        try:
            admin.compute.flavor_add_tenant_access(flavor, project.id)
            admin.compute.create_flavor_extra_specs(
                flavor, {"aos:cloud": "aws", "aos:cloud_instance_type": "t3.nosuch"})
            server = aws["conn"].compute.create_server(name="bad-type", image_id=aws["image"],
                                                       flavor_id=flavor.id, networks="none")
            failed = wait_error(aws["conn"], server)
            message = admin.compute.get_server(server.id).fault["message"]
            assert "aws:" in message and "t3.nosuch" in message, message
            assert "Traceback" not in message and "\n" not in message.strip(), message
            assert build_host(admin, failed.id) == AWS_HOST
            assert cloud_instances(ec2, server.id) == []
        finally:
            admin.compute.delete_flavor(flavor, ignore_missing=True)


def test_a_server_deleted_while_its_compute_was_down_is_reaped_from_ec2_when_it_is_back(
        clouds, sandbox, project, ec2):
    """Nova deletes a server of a host it sees down in its database only; the EC2 instance
    runs on. Back, nova-compute's cleanup of running deleted instances (at start, then every
    running_deleted_instance_poll_interval; action ``reap``) finds it through the driver's
    listing of the cloud, which covers every project bound to AWS, and destroys it."""
    with aws_project(clouds, sandbox, project) as aws:
        conn = aws["conn"]
        server = wait_status(conn, conn.compute.create_server(
            name="orphan", image_id=aws["image"], flavor_id=aws["flavor"], networks="none"),
            "ACTIVE")
        assert one_instance(ec2, server.id)["State"]["Name"] == "running"
        sandbox.kill_host(AWS_HOST)
        try:
            sandbox.wait_compute_state(AWS_HOST, "down", 60)
            conn.compute.delete_server(server)
            conn.compute.wait_for_delete(server, interval=1, wait=60)
            assert one_instance(ec2, server.id)["State"]["Name"] == "running"
        finally:
            sandbox.start_host(AWS_HOST)
        deadline = time.monotonic() + 120
        while cloud_instances(ec2, server.id) and time.monotonic() < deadline:
            time.sleep(1)
        assert cloud_instances(ec2, server.id) == [], "the EC2 instance outlived its server"
        assert ("instance", server.id) not in resource_map(clouds, project.id)


def test_other_projects_never_land_on_the_cloud_host(clouds, sandbox):
    """The sandbox's own project, not cloud-bound, asking for aws-compute by name (the
    scheduler still filters a requested host): no valid host; left to the scheduler, any
    fake hypervisor but never aws-compute."""
    admin = sandbox.conn("admin")
    flavor = admin.compute.find_flavor("m1.tiny") or next(iter(admin.compute.flavors()))
    image = admin.image.find_image("cirros")
    answer = admin.compute.post("/servers", microversion="2.74", json={"server": {
        "name": "not-in-aws", "imageRef": image.id, "flavorRef": flavor.id,
        "networks": "none", "host": AWS_HOST}})
    assert answer.status_code == 202, answer.text
    asked = admin.compute.get_server(answer.json()["server"]["id"])
    try:
        wait_error(admin, asked)
        fault = admin.compute.get_server(asked.id).fault["message"]
        assert "No valid host" in fault, fault
    finally:
        admin.compute.delete_server(asked, force=True)
    servers = [admin.compute.create_server(name=f"local-{i}", image_id=image.id,
                                           flavor_id=flavor.id, networks="none")
               for i in range(3)]
    try:
        for server in servers:
            wait_status(admin, server, "ACTIVE")
            assert admin.compute.get_server(server.id).compute_host != AWS_HOST
    finally:
        for server in servers:
            admin.compute.delete_server(server, force=True)


def test_local_projects_are_scheduled_while_the_clouds_api_is_down(clouds, sandbox, project):
    """The Clouds API stopped (still in the catalog): a project the scheduler never asked
    about on its own boots on a local hypervisor from the last listing of bindings, instead
    of failing with No valid host (an evacuation would fail the same way)."""
    admin = sandbox.conn("admin")
    flavor = admin.compute.find_flavor("m1.tiny") or next(iter(admin.compute.flavors()))
    image = admin.image.find_image("cirros")
    first = admin.compute.create_server(name="local-before", image_id=image.id,
                                        flavor_id=flavor.id, networks="none")
    try:
        wait_status(admin, first, "ACTIVE")  # the scheduler had a word from the API
    finally:
        admin.compute.delete_server(first, force=True)
    clouds.stop()
    try:
        server = project.conn.compute.create_server(name="local-during", image_id=image.id,
                                                    flavor_id=flavor.id, networks="none")
        try:
            wait_status(admin, server, "ACTIVE")
            assert admin.compute.get_server(server.id).compute_host != AWS_HOST
        finally:
            admin.compute.delete_server(server, force=True)
    finally:
        clouds.start()


def test_a_yandex_project_reaches_yandex_compute_only(clouds, sandbox, project, tmp_path,
                                                      monkeypatch):
    """The Yandex-bound project: CloudProjectFilter sends its server to yandex-compute
    (YandexDriver, the short-lived IAM token from the Clouds API), which refuses a server
    without a network with one line; on a network of the project the server gets its port's
    Yandex subnet and address, and a floating IP from the folder's reserved addresses is its
    one-to-one NAT until the floating IP goes (rows 6-7 on Yandex); stop/start/reboot, the
    console, a snapshot and a volume through Nova change the double as they should."""
    admin = sandbox.conn("admin")
    double = sandbox.info["doubles"]["yandex"]
    key = json.loads(Path(double["service_account_key_file"]).read_text())
    monkeypatch.chdir(tmp_path)
    Path("private.key").write_text(key["private_key"])
    admin.identity.assign_project_role_to_user(
        project.id, admin.identity.find_user(sandbox.info["admin"]["username"]),
        admin.identity.find_role("admin"))
    ok(clouds.openstack("aos", "clouds", "add", "yandex", "--project", project.name,
                        "--service-account-id", key["service_account_id"], "--private-key",
                        "private.key", "--key-id", key["id"], "--folder-id",
                        double["folder_id"], "--az", double["zone"], "-f", "json"))
    try:
        image = ok(clouds.openstack("aos", "clouds", "images", "register", "--project",
                                    project.name, "--cloud-image-id", "fd8aossandbox0ubuntu",
                                    "-f", "json"))["Image id"]
        aws_project_setup.activate_image(admin, image)
        flavors = ok(clouds.openstack("aos", "clouds", "flavors", "register", "--project",
                                      project.name, "--filter", "s3-c2-m8", "-f", "json"))
        conn = connect(sandbox.info["auth_url"],
                       {**sandbox.info["admin"], "project_name": project.name},
                       sandbox.info["region"])
        server = conn.compute.create_server(name="in-yandex", image_id=image,
                                            flavor_id=flavors[0]["Id"], networks="none")
        wait_error(conn, server)
        found = admin.compute.get_server(server.id)
        assert "yandex: a yandex instance needs a network interface" in found.fault["message"]
        assert build_host(admin, server.id) == "yandex-compute"
        _yandex_server_on_a_network(clouds, sandbox, conn, project.id, image,
                                    flavors[0]["Id"])
    finally:
        aws_project_setup.clean(admin, project.id)
        clouds.openstack("aos", "clouds", "delete", "--project", project.name, "--force")


def _yandex_power_console_snapshot_and_volumes(clouds, sandbox, conn, vpc: YandexVpc,
                                               server: Any, pid: str) -> None:
    """Through Nova on yandex-compute: stop/start/reboot are the instance's status in the
    double; the console is its serial port output; a snapshot is a Yandex image registered
    back in Glance; a volume of the project (a Yandex disk) attaches and detaches. A volume
    of another cloud (EBS, admin's request) is refused with one line and changes nothing."""
    admin = sandbox.conn("admin")

    def status() -> str:
        (item,) = vpc.instances(server.id)
        return instance_pb2.Instance.Status.Name(item.status)

    conn.compute.stop_server(server)
    wait_idle(conn, server, "SHUTOFF")
    assert status() == "STOPPED"
    conn.compute.start_server(server)
    wait_idle(conn, server)
    assert status() == "RUNNING"
    conn.compute.reboot_server(server, "SOFT")
    wait_idle(conn, server)
    assert status() == "RUNNING"
    (item,) = vpc.instances(server.id)
    assert item.id in conn.compute.get_server_console_output(server)["output"]

    snapshot_id = conn.compute.create_server_image(server, name="yc-snap")
    snapshot_id = snapshot_id if isinstance(snapshot_id, str) else snapshot_id.id
    image = conn.image.wait_for_status(conn.image.get_image(snapshot_id), "active",
                                       failures=["killed"], wait=120, interval=1)
    assert image.properties["aos_cloud"] == "yandex"
    cloud_image = vpc.image(image.properties["aos_cloud_image_id"])
    assert cloud_image.labels["openstack-id"] == server.id
    assert resource_map(clouds, pid)[("image", snapshot_id)] == cloud_image.id
    wait_idle(conn, server)
    conn.image.delete_image(snapshot_id)
    vpc.delete_image(cloud_image.id)

    storage = conn.block_storage
    volume = storage.wait_for_status(storage.create_volume(size=1), "available",
                                     failures=["error"], wait=120, interval=1)
    disk = resource_map(clouds, pid)[("volume", volume.id)]
    conn.compute.create_volume_attachment(server, volume_id=volume.id)
    storage.wait_for_status(volume, "in-use", failures=["error"], wait=120, interval=1)
    assert disk in {d.disk_id for d in vpc.instances(server.id)[0].secondary_disks}
    conn.compute.delete_volume_attachment(volume.id, server)
    storage.wait_for_status(volume, "available", failures=["error"], wait=120, interval=1)
    assert not list(vpc.instances(server.id)[0].secondary_disks)
    storage.delete_volume(volume)
    storage.wait_for_delete(volume, wait=120, interval=1)
    _a_volume_of_another_cloud_is_refused(clouds, sandbox, admin, server, vpc)


def _a_volume_of_another_cloud_is_refused(clouds, sandbox, admin, server, vpc) -> None:
    other = admin.identity.create_project(name=f"aws-{uuid.uuid4().hex[:8]}",
                                          domain_id="default")
    try:
        admin.identity.assign_project_role_to_user(
            other, admin.identity.find_user(sandbox.info["admin"]["username"]),
            admin.identity.find_role("admin"))
        ok(clouds.openstack("aos", "clouds", "add", "aws", "--project", other.name,
                            "--access-key", aws_project_setup.ACCESS_KEY, "--secret-key",
                            aws_project_setup.SECRET_KEY, "--region", aws_project_setup.REGION,
                            "--az", aws_project_setup.ZONE, "-f", "json"))
        in_aws = connect(sandbox.info["auth_url"],
                         {**sandbox.info["admin"], "project_name": other.name},
                         sandbox.info["region"])
        storage = in_aws.block_storage
        volume = storage.wait_for_status(storage.create_volume(size=1), "available",
                                         failures=["error"], wait=120, interval=1)
        admin.compute.create_volume_attachment(server, volume_id=volume.id)
        event = _last_event(admin, server.id, "attach_volume")
        assert event["result"] == "Error", event
        assert "cannot be attached here" in event["details"], event
        storage.wait_for_status(volume, "available", failures=["error"], wait=60, interval=1)
        assert not list(vpc.instances(server.id)[0].secondary_disks)
        assert admin.compute.get_server(server.id).status == "ACTIVE"
        storage.delete_volume(volume)
        storage.wait_for_delete(volume, wait=120, interval=1)
    finally:
        aws_project_setup.clean(admin, other.id)
        clouds.openstack("aos", "clouds", "delete", "--project", other.name, "--force")
        admin.identity.delete_project(other, ignore_missing=True)


def _last_event(admin: Any, server_id: str, action: str, timeout: float = 60) -> dict:
    """The compute event of the server's latest ``action``, once it has a result (2.84:
    with the fault's message as ``details``)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        actions = admin.compute.get(f"/servers/{server_id}/os-instance-actions",
                                    microversion="2.84").json()["instanceActions"]
        latest = next((a for a in actions if a["action"] == action), None)
        if latest:
            events = admin.compute.get(
                f"/servers/{server_id}/os-instance-actions/{latest['request_id']}",
                microversion="2.84").json()["instanceAction"]["events"]
            finished = [e for e in events if e.get("result")]
            if finished:
                return finished[-1]
        time.sleep(1)
    raise AssertionError(f"no finished {action} event on server {server_id} in {timeout} s")


def _yandex_server_on_a_network(clouds, sandbox, conn, pid: str, image: str,
                                flavor: str) -> None:
    """Boot on the project's network: the port's Yandex subnet and address in the double;
    a floating IP of the folder's reserved address as the instance's one-to-one NAT; the
    NAT gone with the floating IP, the instance gone with the server."""
    admin = sandbox.conn("admin")
    vpc = YandexVpc(sandbox.info["doubles"]["yandex"])
    net = conn.network.create_network(name="yc-net")
    subnet = conn.network.create_subnet(
        network_id=net.id, ip_version=4, cidr="10.71.1.0/24",
        allocation_pools=[{"start": "10.71.1.3", "end": "10.71.1.254"}])
    cloud_subnet = resource_map(clouds, pid)[("subnet", subnet.id)]
    server = conn.compute.create_server(name="in-yandex-net", image_id=image,
                                        flavor_id=flavor, networks=[{"uuid": net.id}])
    server = wait_status(conn, server, "ACTIVE")
    assert build_host(admin, server.id) == "yandex-compute"
    (port,) = conn.network.ports(device_id=server.id)
    address = port.fixed_ips[0]["ip_address"]
    (item,) = vpc.instances(server.id)
    (nic,) = item.network_interfaces
    assert (nic.subnet_id, nic.primary_v4_address.address) == (cloud_subnet, address)
    assert not nic.primary_v4_address.one_to_one_nat.address
    assert resource_map(clouds, pid)[("instance", server.id)] == item.id
    _yandex_power_console_snapshot_and_volumes(clouds, sandbox, conn, vpc, server, pid)

    with vpc.reserved_address() as public:
        ext = admin.network.create_network(
            name=f"yc-ext-{uuid.uuid4().hex[:6]}", is_router_external=True,
            provider_network_type="flat", provider_physical_network=f"yc{uuid.uuid4().hex[:6]}")
        try:
            prefix = public.rsplit(".", 1)[0]
            ext_subnet = admin.network.create_subnet(
                network_id=ext.id, ip_version=4, cidr=f"{prefix}.0/24", gateway_ip=None,
                enable_dhcp=False, allocation_pools=[{"start": public, "end": public}])
            # the router's own external address lies outside the pool (not a Yandex one)
            outside = f"{prefix}.{201 if public.endswith('.200') else 200}"
            router = conn.network.create_router(name="yc-router", external_gateway_info={
                "network_id": ext.id,
                "external_fixed_ips": [{"subnet_id": ext_subnet.id, "ip_address": outside}]})
            conn.network.add_interface_to_router(router, subnet_id=subnet.id)
            assert vpc.state(pid)["routes"] == {net.id: [("0.0.0.0/0", router.id)]}

            # 6. floating IP on the server -> the reserved address as its one-to-one NAT
            fip = conn.network.create_ip(floating_network_id=ext.id, port_id=port.id)
            assert fip.floating_ip_address == public
            (nic,) = vpc.instances(server.id)[0].network_interfaces
            assert nic.primary_v4_address.one_to_one_nat.address == public
            assert vpc.address(public).used
            assert ("floating_ip", fip.id) in resource_map(clouds, pid)

            # 7. floating IP delete -> NAT removed; the address stays the folder's
            conn.network.delete_ip(fip)
            (nic,) = vpc.instances(server.id)[0].network_interfaces
            assert not nic.primary_v4_address.one_to_one_nat.address
            assert not vpc.address(public).used
            assert ("floating_ip", fip.id) not in resource_map(clouds, pid)

            # again on the server, then the server deleted: instance and NAT gone
            fip = conn.network.create_ip(floating_network_id=ext.id, port_id=port.id)
            assert vpc.address(public).used
            conn.compute.delete_server(server)
            conn.compute.wait_for_delete(server, wait=120, interval=1)
            assert vpc.instances(server.id) == []
            assert not vpc.address(public).used
            mapped = resource_map(clouds, pid)
            assert ("instance", server.id) not in mapped
            assert ("floating_ip", fip.id) not in mapped
        finally:
            aws_project_setup.clean(admin, pid)
            admin.network.delete_network(ext, ignore_missing=True)
    assert vpc.state(pid) == {"networks": set(), "subnets": {}, "routers": {}, "routes": {}}
