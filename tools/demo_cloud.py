"""The demo's hybrid-cloud step: a server of the AWS-bound project ``aws`` boots through
Nova on ``aws-compute`` (EC2Driver) and shows up in the sandbox's AWS (moto).

Runs after the Clouds services are up and in the catalog; the project is set up as spec
000's guide does it (tools/aos_sandbox/aws_project.py), after removing what an earlier demo
left in it.
"""

from __future__ import annotations

from tools.aos_sandbox import aws_project
from tools.aos_sandbox.aos_services import BIN
from tools.aos_sandbox.client import Sandbox, connect

PROJECT = "aws"


def boot_in_aws(sandbox: Sandbox) -> str:
    """Boot ``aws-web`` in project ``aws``; a line saying where it runs in Nova and in EC2."""
    admin = sandbox.conn("admin")
    project = admin.identity.find_project(PROJECT) or admin.identity.create_project(
        name=PROJECT, domain_id="default", description="AOS demo: backed by AWS (moto)")
    aws_project.clean(admin, project.id)
    ids = aws_project.bind(aws_project.admin_cli(sandbox, BIN / "openstack"), admin, project,
                           sandbox.info["admin"]["username"])
    conn = connect(sandbox.info["auth_url"], {**sandbox.info["admin"], "project_name": PROJECT},
                   sandbox.info["region"])
    net, _ = aws_project.network(conn, "10.70.1")
    server = conn.compute.create_server(name="aws-web", image_id=ids["image"],
                                        flavor_id=ids["flavor"], networks=[{"uuid": net.id}])
    server = sandbox.wait_active(server)
    ec2 = aws_project.ec2(sandbox.info["doubles"]["aws"]["endpoint_url"])
    found = ec2.describe_instances(Filters=[{"Name": "tag:openstack:id",
                                             "Values": [server.id]}])["Reservations"]
    item = found[0]["Instances"][0]
    return (f"Server aws-web of project {PROJECT}: {server.status} on "
            f"{admin.compute.get_server(server.id).compute_host}; in AWS (moto) "
            f"{item['InstanceId']} {item['InstanceType']} {item['State']['Name']} "
            f"{item['PrivateIpAddress']} in {item['SubnetId']}")
