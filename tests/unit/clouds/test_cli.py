"""``openstack aos clouds …`` through the real ``openstack`` command against the real API
(werkzeug server in a thread, noauth), moto and the Yandex double in-process."""

from __future__ import annotations

from clouds.accounts import Accounts
from clouds.cli.registrations import FLAVORS_PER_REQUEST
from tests.cli import openstack
from tests.unit.clouds.test_api import ACCESS_KEY, SECRET


def aos(url: str, *args: str):
    return openstack("--os-auth-type", "none", "--os-clouds-url", url, "aos", "clouds", *args)


def one_line_error(result) -> str:
    assert result.code != 0, result.out
    lines = [line for line in result.err.splitlines() if line.strip()]
    assert len(lines) == 1, result.err
    return lines[0]


def test_spec_lines_for_aws(server):
    url, runtime = server
    added = aos(url, "add", "aws", "--project", "aws", "--access-key", ACCESS_KEY,
                "--secret-key", SECRET, "--region", "us-east-2", "--az", "us-east-2a",
                "-f", "json")
    assert added.code == 0, added.err
    assert added.json()["Provider"] == "aws" and added.json()["Credentials"] == "***"
    assert SECRET not in added.out
    again = aos(url, "add", "aws", "--project", "aws", "--access-key", ACCESS_KEY,
                "--secret-key", SECRET, "--region", "us-east-2", "--az", "us-east-2a")
    assert one_line_error(again).startswith("409: project aws already has")
    listed = aos(url, "list", "-f", "json")
    assert [a["Provider"] for a in listed.json()] == ["aws"]
    assert aos(url, "check", "--project", "aws", "-f", "json").json()["Status"] == "ok"
    image = aos(url, "images", "register", "--project", "aws", "--cloud-image-id",
                "ami-03cf127a", "-f", "json")
    assert image.code == 0, image.err
    assert image.json()["Cloud image id"] == "ami-03cf127a"
    assert "404" in one_line_error(aos(url, "images", "register", "--project", "aws",
                                       "--cloud-image-id", "ami-0123456789abcdef0"))
    images = aos(url, "images", "list", "--project", "aws", "-f", "json").json()
    assert [i["Cloud image id"] for i in images] == ["ami-03cf127a"]
    flavors = aos(url, "flavors", "register", "--project", "aws", "--filter", "t3.*",
                  "--filter", "m5*", "-f", "json")
    assert flavors.code == 0, flavors.err
    names = {f["Name"] for f in flavors.json()}
    assert {"aws.t3.micro", "aws.m5.large"} <= names
    assert len(runtime.openstack.flavors) == len(names) > FLAVORS_PER_REQUEST
    rerun = aos(url, "flavors", "register", "--project", "aws", "--filter", "t3.*",
                "--dry-run", "-f", "json")
    assert {f["Status"] for f in rerun.json()} == {"exists"}
    moved = aos(url, "set", "--project", "aws", "--az", "us-east-2b", "-f", "json")
    assert moved.json()["Availability zone"] == "us-east-2b"
    assert "az" in one_line_error(aos(url, "set", "--project", "aws", "--az", "nowhere"))
    Accounts(runtime).record_resource("aws", {"kind": "volume", "openstack_id": "vol-1",
                                              "cloud_resource_id": "vol-0123456789abcdef0"})
    mapped = aos(url, "resource", "list", "--project", "aws", "--kind", "volume",
                 "-f", "json").json()
    assert [m["Openstack id"] for m in mapped] == ["vol-1"]
    unchecked = aos(url, "resource", "list", "--project", "aws", "--drift", "-f", "json")
    assert unchecked.json() == []  # no drift check has run yet
    checked = aos(url, "resource", "list", "--project", "aws", "--drift", "--check",
                  "-f", "json")
    assert [d["Openstack id"] for d in checked.json()] == ["vol-1"]
    drifted = aos(url, "resource", "list", "--project", "aws", "--drift", "-f", "json")
    assert drifted.json()[0]["Drift since"]
    assert [(d["Openstack id"], d["Drift"]) for d in drifted.json()] == [
        ("vol-1", "missing in the cloud")]
    assert "409" in one_line_error(aos(url, "delete", "--project", "aws"))
    deleted = aos(url, "delete", "--project", "aws", "--force", "-f", "json")
    assert deleted.code == 0, deleted.err
    assert aos(url, "list", "-f", "json").json() == []


def test_spec_line_for_yandex_with_key_file(server, yc, tmp_path):  # noqa: F811
    url, _ = server
    key_file = tmp_path / "private.key"
    key_file.write_text(yc["private_key"])
    args = ["add", "yandex", "--project", "yandex", "--service-account-id",
            yc["service_account_id"], "--key-id", yc["key_id"], "--folder-id",
            yc["folder_id"], "--az", "ru-central1-a"]
    added = aos(url, *args, "--private-key", str(key_file), "-f", "json")
    assert added.code == 0, added.err
    assert added.json()["Folder id"] == yc["folder_id"]
    assert "PRIVATE KEY" not in added.out
    shown = aos(url, "show", "--project", "yandex", "-f", "json").json()
    assert shown["Provider"] == "yandex"
    aos(url, "delete", "--project", "yandex")

    missing = one_line_error(aos(url, *args, "--private-key", str(tmp_path / "nope.key")))
    assert "cannot read private key file" in missing
    bad = tmp_path / "bad.key"
    bad.write_text("-----BEGIN PRIVATE KEY-----\nnot base64 at all\n-----END PRIVATE KEY-----\n")
    assert "private_key" in one_line_error(aos(url, *args, "--private-key", str(bad)))



