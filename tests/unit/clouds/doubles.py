"""The public-cloud doubles in-process: moto for AWS, the sandbox's Yandex gRPC double."""

from __future__ import annotations

import json
import socket
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import boto3

REPO = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(REPO / "tools" / "aos_sandbox"))

from doubles import aws as aws_double  # noqa: E402, F401 - its VM Import for moto
from doubles.ycloud import config as yandex_config  # noqa: E402
from doubles.ycloud.server import build_server  # noqa: E402

ADMIN_POLICY = json.dumps({"Version": "2012-10-17",
                           "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]})


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def aws_keys() -> dict[str, str]:
    """A real key pair of a moto IAM user allowed everything (inside mock_aws)."""
    iam = boto3.client("iam", region_name="us-east-1")
    iam.create_user(UserName="aos")
    iam.put_user_policy(UserName="aos", PolicyName="all", PolicyDocument=ADMIN_POLICY)
    key = iam.create_access_key(UserName="aos")["AccessKey"]
    return {"access_key": key["AccessKeyId"], "secret_key": key["SecretAccessKey"]}


@contextmanager
def yandex_double(state_dir: Path) -> Iterator[dict[str, Any]]:
    """The Yandex double on a free loopback port; yields endpoint, CA and the account."""
    port = free_port()
    server = build_server(state_dir, "127.0.0.1", port)
    server.start()
    key = json.loads(yandex_config.sa_key_file(state_dir).read_text())
    try:
        yield {
            "endpoint": f"127.0.0.1:{port}",
            "ca_file": yandex_config.ca_file(state_dir),
            "root_certificates": yandex_config.ca_file(state_dir).read_bytes(),
            "service_account_id": key["service_account_id"],
            "key_id": key["id"],
            "private_key": key["private_key"],
            "folder_id": yandex_config.FOLDER_ID,
            "zone": yandex_config.DEFAULT_ZONE,
            "image_id": "fd8aossandbox0ubuntu",
        }
    finally:
        server.stop(0)
