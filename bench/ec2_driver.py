"""EC2Driver benchmark on the sandbox: 50 servers booted and deleted through Nova on
``aws-compute`` (EC2Driver against moto), against boto3 calling moto directly.

Run from the repository root with the sandbox up:
    tools/sandbox up && .venv/bin/python -m bench.ec2_driver [--servers 50]

It deploys the Clouds API (in the catalog, as spec 000 installs it), sets up a project as the
guide does, then:

- driver_spawn_s: the time EC2Driver.spawn reports for each server in aws-compute's log, from
  the moment Nova's port allocation is done (Nova waits for Neutron inside spawn; that is not
  the driver's work) to the instance recorded: the driver's own work, its Clouds API calls
  (credentials, resource map) and Neutron look-up included;
- boto3_s, the baseline, in the same run: what the driver asks of EC2 for one server, called
  directly with boto3 on the same moto (import the key pair, RunInstances in the same subnet
  with a fixed IP, wait until running, describe), then cleaned up; ``--parallel`` at a time
  by the threads of one process, as the driver's spawns share one nova-compute;
- boot_s: end to end, from the create request to Nova's ACTIVE, servers booted ``--parallel``
  at a time (default 1); delete_s: from the delete request until Nova no longer lists it.

The ratio is the median driver_spawn_s over the median boto3_s (target: at most 1.3).
"""

from __future__ import annotations

import argparse
import re
import statistics
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from tools.aos_sandbox import aws_project
from tools.aos_sandbox.aos_services import (
    BIN,
    Clouds,
    answers,
    drop_database,
    keystone_auth,
    register_endpoints,
    unregister,
    wait_for,
)
from tools.aos_sandbox.client import Sandbox, connect

SPAWN_LINE = re.compile(r"instance ([0-9a-f-]{36}) of project \S+ is aws .* the driver "
                        r"spawned it in ([0-9.]+) s")


def _stats(values: list[float]) -> str:
    ordered = sorted(values)
    p90 = ordered[min(len(ordered) - 1, int(0.9 * len(ordered)))]
    return f"median {statistics.median(ordered):.3f}  p90 {p90:.3f}  max {ordered[-1]:.3f}"


def boot_all(conn: Any, ids: dict[str, str], net_id: str, key: str, count: int,
             parallel: int) -> dict[str, float]:
    """Server id → seconds from the create request to ACTIVE."""
    def one(i: int) -> tuple[str, float]:
        started = time.monotonic()
        server = conn.compute.create_server(name=f"bench-{i}", image_id=ids["image"],
                                            flavor_id=ids["flavor"], key_name=key,
                                            networks=[{"uuid": net_id}])
        while True:
            found = conn.compute.get_server(server.id)
            if found.status == "ACTIVE":
                return server.id, time.monotonic() - started
            if found.status == "ERROR":
                raise RuntimeError(f"server {server.id}: {found.fault}")
            time.sleep(0.1)

    with ThreadPoolExecutor(max_workers=parallel) as pool:
        return dict(pool.map(one, range(count)))


def delete_all(conn: Any, server_ids: list[str], parallel: int) -> list[float]:
    def one(server_id: str) -> float:
        started = time.monotonic()
        conn.compute.delete_server(server_id)
        conn.compute.wait_for_delete(conn.compute.get_server(server_id), interval=0.1,
                                     wait=120)
        return time.monotonic() - started

    with ThreadPoolExecutor(max_workers=parallel) as pool:
        return list(pool.map(one, server_ids))


def spawn_times(log: Path, server_ids: set[str]) -> dict[str, float]:
    return {m.group(1): float(m.group(2)) for m in SPAWN_LINE.finditer(log.read_text())
            if m.group(1) in server_ids}


def boto3_baseline(ec2: Any, subnet_id: str, count: int, public_key: str,
                   parallel: int) -> list[float]:
    """The EC2 calls of one spawn, made directly, ``parallel`` instances at a time by the
    threads of one process (as one nova-compute's builds share it)."""
    made: list[tuple[str, str]] = []

    def one(i: int) -> float:
        name = f"bench-direct-{uuid.uuid4()}"
        started = time.monotonic()
        ec2.import_key_pair(KeyName=f"openstack-{name}", PublicKeyMaterial=public_key.encode())
        item = ec2.run_instances(
            ImageId=aws_project.SPEC_AMI, InstanceType=aws_project.INSTANCE_TYPE,
            MinCount=1, MaxCount=1, ClientToken=name, SubnetId=subnet_id,
            PrivateIpAddress=f"10.80.{2 + i // 200}.{10 + i % 200}",
            KeyName=f"openstack-{name}", UserData="",
            TagSpecifications=[{"ResourceType": "instance",
                                "Tags": [{"Key": "openstack:id", "Value": name}]}],
        )["Instances"][0]
        made.append((item["InstanceId"], f"openstack-{name}"))
        ec2.get_waiter("instance_running").wait(
            InstanceIds=[item["InstanceId"]], WaiterConfig={"Delay": 3, "MaxAttempts": 100})
        ec2.describe_instances(InstanceIds=[item["InstanceId"]])
        return time.monotonic() - started

    try:
        with ThreadPoolExecutor(max_workers=parallel) as pool:
            return list(pool.map(one, range(count)))
    finally:
        for instance_id, key in made:
            ec2.terminate_instances(InstanceIds=[instance_id])
            ec2.delete_key_pair(KeyName=key)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--servers", type=int, default=50)
    parser.add_argument("--parallel", type=int, default=1)
    args = parser.parse_args()
    sandbox = Sandbox.load()
    log = Path(sandbox.info["cloud_hosts"][aws_project.AWS_HOST]["log"])
    admin = sandbox.conn("admin")
    with tempfile.TemporaryDirectory(prefix="aos-bench-ec2-") as tmp:
        clouds = Clouds(sandbox, Path(tmp), api={"host": "127.0.0.1", "workers": 1},
                        keystone_authtoken=keystone_auth(sandbox))
        clouds.start("api")
        try:
            wait_for("the Clouds API on 9366", lambda: clouds.running()["api"] and
                     answers("http://127.0.0.1:9366/"), 60)
            register_endpoints(sandbox)
            project = admin.identity.create_project(name=f"bench-aws-{uuid.uuid4().hex[:6]}",
                                                    domain_id="default")
            try:
                return _run(sandbox, admin, project, log, args)
            finally:
                aws_project.clean(admin, project.id)
                admin.identity.delete_project(project, ignore_missing=True)
        finally:
            unregister(admin)
            clouds.stop_all()
            drop_database(sandbox, clouds.database)


def _run(sandbox: Sandbox, admin: Any, project: Any, log: Path, args: Any) -> int:
    ids = aws_project.bind(aws_project.admin_cli(sandbox, BIN / "openstack"), admin, project,
                           sandbox.info["admin"]["username"])
    admin.set_compute_quotas(project.id, instances=-1, cores=-1, ram=-1)
    admin.set_network_quotas(project.id, port=-1)
    conn = connect(sandbox.info["auth_url"],
                   {**sandbox.info["admin"], "project_name": project.name},
                   sandbox.info["region"])
    net, subnet = aws_project.network(conn, "10.80.1")
    public_key = aws_project.public_key()
    key = conn.compute.create_keypair(name=f"bench-{uuid.uuid4().hex[:6]}",
                                      public_key=public_key)
    ec2 = aws_project.ec2(sandbox.info["doubles"]["aws"]["endpoint_url"])
    try:
        boots = boot_all(conn, ids, net.id, key.name, args.servers, args.parallel)
        spawns = spawn_times(log, set(boots))
        deletes = delete_all(conn, list(boots), args.parallel)
        left = [i for r in ec2.describe_instances(Filters=[
            {"Name": "tag:openstack:project", "Values": [project.id]}])["Reservations"]
            for i in r["Instances"] if i["State"]["Name"] != "terminated"]
        vpc = ec2.describe_subnets(Filters=[{"Name": "tag:openstack:id",
                                             "Values": [subnet.id]}])["Subnets"][0]
        ec2.create_subnet(VpcId=vpc["VpcId"], CidrBlock="10.80.2.0/24",
                          AvailabilityZone=aws_project.ZONE)
        direct_subnet = ec2.describe_subnets(Filters=[
            {"Name": "cidr-block", "Values": ["10.80.2.0/24"]}])["Subnets"][0]["SubnetId"]
        try:
            direct = boto3_baseline(ec2, direct_subnet, args.servers, public_key,
                                    args.parallel)
        finally:
            ec2.delete_subnet(SubnetId=direct_subnet)
    finally:
        conn.compute.delete_keypair(key, ignore_missing=True)
    ratio = statistics.median(spawns.values()) / statistics.median(direct)
    print(f"servers: {args.servers} booted {args.parallel} at a time; spawn lines found: "
          f"{len(spawns)}; EC2 instances left after delete: {len(left)}")
    print(f"driver_spawn_s  {_stats(list(spawns.values()))}")
    print(f"boto3_s         {_stats(direct)}")
    print(f"ratio (median driver_spawn_s / median boto3_s): {ratio:.2f}x (target <= 1.3)")
    print(f"boot_s          {_stats(list(boots.values()))}")
    print(f"delete_s        {_stats(deletes)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
