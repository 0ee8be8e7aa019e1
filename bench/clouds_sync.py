"""Benchmark of the drift reconcile: 10,000 mapped resources of one AWS account checked
against moto (in-process), against a per-resource baseline in the same run.

Run from the repository root:  .venv/bin/python -m bench.clouds_sync [--resources 10000]

What runs is the worker's path (``Accounts.drift``: read the map from the Clouds database,
one paginated listing per kind, the pure comparison, the outcome stored on the map). The
baseline asks one Describe call per mapped resource, as a driver checking objects one by one
would; it runs on a sample (``--baseline-sample``) and is reported per 1,000 resources.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import random
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
from botocore.client import BaseClient
from moto import mock_aws

REGION, ZONE = "us-east-2", "us-east-2a"
#: Share of each kind in the map; instances are launched 500 per RunInstances.
MIX = {"volume": 0.6, "subnet": 0.2, "instance": 0.2}
SUBNETS_PER_VPC = 250


class CallCounter:
    """Every AWS API call made through botocore in this process, by operation name."""

    def __init__(self) -> None:
        self.calls: collections.Counter[str] = collections.Counter()
        self.seconds = 0.0  # inside the calls: botocore and the cloud (here moto) answering
        self._original = BaseClient._make_api_call

    def __enter__(self) -> CallCounter:
        counter, original = self, self._original

        def counted(client: Any, operation: str, params: dict) -> Any:
            counter.calls[operation] += 1
            started = time.perf_counter()
            try:
                return original(client, operation, params)
            finally:
                counter.seconds += time.perf_counter() - started

        BaseClient._make_api_call = counted
        return self

    def __exit__(self, *exc: object) -> None:
        BaseClient._make_api_call = self._original


def populate(count: int, missing: float, rng: random.Random) -> list[tuple[str, str, str]]:
    """(kind, openstack id, cloud id) of ``count`` objects made in moto; a ``missing`` share
    of them deleted afterwards, behind OpenStack's back."""
    ec2 = boto3.client("ec2", region_name=REGION)
    wanted = {kind: int(count * share) for kind, share in MIX.items()}
    wanted["volume"] += count - sum(wanted.values())
    made: list[tuple[str, str]] = []
    for _ in range(wanted["volume"]):
        made.append(("volume", ec2.create_volume(AvailabilityZone=ZONE, Size=1)["VolumeId"]))
    for index in range(wanted["subnet"]):
        if index % SUBNETS_PER_VPC == 0:
            vpc = ec2.create_vpc(CidrBlock=f"10.{index // SUBNETS_PER_VPC}.0.0/16")["Vpc"]
        cidr = f"10.{index // SUBNETS_PER_VPC}.{index % SUBNETS_PER_VPC}.0/24"
        made.append(("subnet", ec2.create_subnet(VpcId=vpc["VpcId"], CidrBlock=cidr,
                                                 AvailabilityZone=ZONE)["Subnet"]["SubnetId"]))
    ami = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    left = wanted["instance"]
    while left:
        batch = min(left, 500)
        answer = ec2.run_instances(ImageId=ami, MinCount=batch, MaxCount=batch,
                                   InstanceType="t3.micro")
        made += [("instance", i["InstanceId"]) for i in answer["Instances"]]
        left -= batch
    gone = rng.sample(made, int(len(made) * missing))
    for kind, cloud_id in gone:
        if kind == "volume":
            ec2.delete_volume(VolumeId=cloud_id)
        elif kind == "subnet":
            ec2.delete_subnet(SubnetId=cloud_id)
        else:
            ec2.terminate_instances(InstanceIds=[cloud_id])
    return [(kind, f"os-{kind}-{n}", cloud_id) for n, (kind, cloud_id) in enumerate(made)]


def clouds_runtime(root: Path) -> Any:
    """A Clouds runtime on a migrated SQLite database in ``root``."""
    from aos import conf as aos_conf
    from aos import crypto, db
    from aos.db.migrations import Migrator
    from clouds import runtime
    from clouds.module import MODULE

    for name in ("etc", "state", "log"):
        (root / name).mkdir()
    (root / "etc" / "aos.conf").write_text(
        f"[DEFAULT]\nstate_path = {root / 'state'}\nlog_root = {root / 'log'}\n")
    (root / "etc" / "clouds.conf").write_text("[aws]\nmax_attempts = 1\n")
    os.environ["AOS_CONFIG_DIR"], os.environ["AOS_STATE_DIR"] = str(root / "etc"), \
        str(root / "state")
    crypto.create_key_file(root / "state" / "secret.key")
    conf = aos_conf.load(MODULE)
    engine = db.create_engine(db.database_url(conf, MODULE))
    Migrator(MODULE, engine).migrate()
    engine.dispose()
    return runtime.build(conf)


def map_resources(rt: Any, project_id: str, mapped: list[tuple[str, str, str]]) -> None:
    from clouds.db import api as db
    from clouds.db.models import Resource

    secrets = {"access_key": "AKIAIOSFODNN7EXAMPLE", "secret_key": "bench"}
    with rt.transaction() as session:
        row = db.add_cloud(session, project_id=project_id, provider="aws", region=REGION,
                           zone=ZONE, credentials=rt.secrets.encrypt(json.dumps(secrets)),
                           options={})
        session.add_all(Resource(cloud_id=row.id, kind=kind, openstack_id=openstack_id,
                                 cloud_resource_id=cloud_id)
                        for kind, openstack_id, cloud_id in mapped)


#: The baseline: one Describe per mapped resource.
ONE_BY_ONE: dict[str, Callable[[Any, str], Any]] = {
    "volume": lambda ec2, i: ec2.describe_volumes(Filters=[{"Name": "volume-id",
                                                            "Values": [i]}]),
    "subnet": lambda ec2, i: ec2.describe_subnets(Filters=[{"Name": "subnet-id",
                                                            "Values": [i]}]),
    "instance": lambda ec2, i: ec2.describe_instances(Filters=[{"Name": "instance-id",
                                                                "Values": [i]}]),
}


def baseline(sample: list[tuple[str, str, str]]) -> tuple[float, collections.Counter[str]]:
    ec2 = boto3.client("ec2", region_name=REGION)
    ec2.describe_availability_zones()  # loads the model, as the reconcile's client has
    with CallCounter() as counter:
        started = time.perf_counter()
        for kind, _, cloud_id in sample:
            ONE_BY_ONE[kind](ec2, cloud_id)
        return time.perf_counter() - started, counter.calls


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--resources", type=int, default=10_000)
    parser.add_argument("--missing", type=float, default=0.01,
                        help="share deleted behind OpenStack's back (default 1 %%)")
    parser.add_argument("--baseline-sample", type=int, default=1_000)
    parser.add_argument("--seed", type=int, default=20261201)
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)
    from clouds.accounts import Accounts

    with tempfile.TemporaryDirectory() as tmp, mock_aws():
        started = time.perf_counter()
        mapped = populate(args.resources, args.missing, rng)
        rt = clouds_runtime(Path(tmp))
        map_resources(rt, "bench-project", mapped)
        setup = time.perf_counter() - started
        with CallCounter() as counter:
            started = time.perf_counter()
            found = Accounts(rt).drift("bench-project")
            took = time.perf_counter() - started
        by_kind = collections.Counter(kind for kind, _, _ in mapped)
        sample = rng.sample(mapped, min(args.baseline_sample, len(mapped)))
        base_took, base_calls = baseline(sample)

    per_1000 = 1000 / len(mapped)
    print(f"setup (moto objects and map): {setup:.1f} s; mapped {len(mapped)} "
          f"({', '.join(f'{n} {k}s' for k, n in sorted(by_kind.items()))}); "
          f"drift found {len(found)} (expected {int(len(mapped) * args.missing)})")
    print()
    print("| who | resources | time_s | of which in cloud calls | s per 1,000 | cloud calls "
          "| calls per 1,000 |")
    print("|---|---|---|---|---|---|---|")
    calls = sum(counter.calls.values())
    print(f"| reconcile (Accounts.drift) | {len(mapped)} | {took:.2f} | {counter.seconds:.2f} "
          f"| {took * per_1000:.3f} | {calls} | {calls * per_1000:.2f} |")
    base_calls_n = sum(base_calls.values())
    print(f"| one Describe per resource | {len(sample)} | {base_took:.2f} | {base_took:.2f} | "
          f"{base_took * 1000 / len(sample):.3f} | {base_calls_n} | "
          f"{base_calls_n * 1000 / len(sample):.2f} |")
    print()
    print("reconcile calls by operation, and per 1,000 resources of that kind:")
    kind_of = {"DescribeVolumes": "volume", "DescribeSubnets": "subnet",
               "DescribeInstanceStatus": "instance"}
    for operation, n in sorted(counter.calls.items()):
        kind = kind_of.get(operation)
        share = f"{n * 1000 / by_kind[kind]:.2f} per 1,000 {kind}s" if kind else "-"
        print(f"  {operation}: {n} ({share})")
    ratio = (base_took * 1000 / len(sample)) / (took * per_1000)
    print(f"\ntime ratio per 1,000 resources (baseline / reconcile): {ratio:.1f}x; "
          f"target < 10 s for {len(mapped)}: {'met' if took < 10 else 'NOT met'}")


if __name__ == "__main__":
    main()
