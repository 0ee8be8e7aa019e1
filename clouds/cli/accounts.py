"""``openstack aos clouds add aws|yandex``, ``list``, ``show``, ``set``, ``delete``, ``check``,
``credentials``: one public-cloud account per OpenStack project."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from osc_lib import exceptions

from aos.cli import records

SERVICE_TYPE = "clouds"
ACCOUNT_FIELDS = ("project_id", "provider", "region", "availability_zone", "folder_id")


def call(app: Any, method: str, api_path: str, body: dict | None = None,
         params: dict[str, Any] | None = None) -> Any:
    return records.call(app, SERVICE_TYPE, method, api_path, body, params)


def project_path(project: str, *rest: str) -> str:
    return records.path("v1", "clouds", project, *rest)


def add_project(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--project", required=True, metavar="<project>",
                        help="OpenStack project (name or id).")


def read_private_key(path: str) -> str:
    """The PEM text of ``--private-key`` (a file path, as Yandex's key files are)."""
    try:
        return Path(path).expanduser().read_text()
    except OSError as exc:
        raise exceptions.CommandError(
            f"cannot read private key file {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise exceptions.CommandError(f"private key file {path} is not a PEM file") from None


def _aws_options(parser: argparse.ArgumentParser, required: bool) -> None:
    parser.add_argument("--access-key", required=required, metavar="<key id>",
                        help="AWS access key id.")
    parser.add_argument("--secret-key", required=required, metavar="<secret>",
                        help="AWS secret access key (stored encrypted, never shown).")
    parser.add_argument("--region", required=required, metavar="<region>",
                        help="AWS region, e.g. us-east-2.")


def _yandex_options(parser: argparse.ArgumentParser, required: bool) -> None:
    parser.add_argument("--service-account-id", required=required, metavar="<id>",
                        help="Yandex.Cloud service account id.")
    parser.add_argument("--key-id", required=required, metavar="<id>",
                        help="Id of the service account's authorized key.")
    parser.add_argument("--private-key", required=required, metavar="<file>",
                        help="PEM file with the authorized key's private key (stored "
                        "encrypted, never shown).")
    parser.add_argument("--folder-id", required=required, metavar="<id>",
                        help="Folder the project's resources are created in.")


def _az(parser: argparse.ArgumentParser, required: bool) -> None:
    parser.add_argument("--az", required=required, metavar="<zone>",
                        help="Availability zone, e.g. us-east-2a or ru-central1-a.")


def _body(parsed_args: argparse.Namespace, names: tuple[str, ...]) -> dict[str, Any]:
    body = {name: getattr(parsed_args, name) for name in names
            if getattr(parsed_args, name, None) is not None}
    if "private_key" in body:
        body["private_key"] = read_private_key(body["private_key"])
    return body


AWS_FIELDS = ("access_key", "secret_key", "region", "az")
YANDEX_FIELDS = ("service_account_id", "key_id", "private_key", "folder_id", "az")


class _CloudAdd(records.ShowCommand):
    """One ``clouds add <provider>`` command: its options, then a POST of what was given."""

    provider: str
    fields: tuple[str, ...]

    def add_cloud_options(self, parser: argparse.ArgumentParser) -> None:
        raise NotImplementedError

    def get_parser(self, prog_name: str) -> argparse.ArgumentParser:
        parser = super().get_parser(prog_name)
        add_project(parser)
        self.add_cloud_options(parser)
        _az(parser, required=True)
        return parser

    def record(self, parsed_args: argparse.Namespace) -> dict[str, Any]:
        body = {"provider": self.provider, "project": parsed_args.project,
                **_body(parsed_args, self.fields)}
        return call(self.app, "POST", "/v1/clouds", body)


class CloudAddAws(_CloudAdd):
    """Back a project with an AWS account; the keys are checked against AWS first."""

    provider = "aws"
    fields = AWS_FIELDS

    def add_cloud_options(self, parser: argparse.ArgumentParser) -> None:
        _aws_options(parser, required=True)


class CloudAddYandex(_CloudAdd):
    """Back a project with a Yandex.Cloud folder through a service account key (checked first)."""

    provider = "yandex"
    fields = YANDEX_FIELDS

    def add_cloud_options(self, parser: argparse.ArgumentParser) -> None:
        _yandex_options(parser, required=True)


class CloudList(records.ListCommand):
    """List cloud accounts (credentials are never shown)."""

    fields = ACCOUNT_FIELDS

    def get_parser(self, prog_name: str) -> argparse.ArgumentParser:
        parser = super().get_parser(prog_name)
        parser.add_argument("--provider", choices=("aws", "yandex"),
                            help="Only accounts of this cloud.")
        return parser

    def records(self, parsed_args: argparse.Namespace) -> list[dict[str, Any]]:
        return call(self.app, "GET", "/v1/clouds", params={"provider": parsed_args.provider})


class CloudShow(records.ShowCommand):
    """Show a project's cloud account and how many resources are mapped."""

    def get_parser(self, prog_name: str) -> argparse.ArgumentParser:
        parser = super().get_parser(prog_name)
        add_project(parser)
        return parser

    def record(self, parsed_args: argparse.Namespace) -> dict[str, Any]:
        return call(self.app, "GET", project_path(parsed_args.project))


class CloudSet(records.ShowCommand):
    """Change an account's keys, region, zone or folder; checked against the cloud first."""

    def get_parser(self, prog_name: str) -> argparse.ArgumentParser:
        parser = super().get_parser(prog_name)
        add_project(parser)
        _aws_options(parser, required=False)
        _yandex_options(parser, required=False)
        _az(parser, required=False)
        return parser

    def record(self, parsed_args: argparse.Namespace) -> dict[str, Any]:
        body = _body(parsed_args, AWS_FIELDS + YANDEX_FIELDS)
        if not body:
            raise exceptions.CommandError("nothing to change: give at least one option")
        return call(self.app, "PATCH", project_path(parsed_args.project), body)


class CloudDelete(records.ShowCommand):
    """Delete a project's account; refused while its resources live in the cloud.

    --force forgets the mapping of those resources (nothing is deleted in the cloud).
    """

    def get_parser(self, prog_name: str) -> argparse.ArgumentParser:
        parser = super().get_parser(prog_name)
        add_project(parser)
        parser.add_argument("--force", action="store_true",
                            help="Delete even while mapped resources live in the cloud.")
        return parser

    def record(self, parsed_args: argparse.Namespace) -> dict[str, Any]:
        params = {"force": "true"} if parsed_args.force else None
        return call(self.app, "DELETE", project_path(parsed_args.project), params=params)


class CloudCheck(records.ShowCommand):
    """Check the stored account against its cloud (keys, region/folder, zone)."""

    def get_parser(self, prog_name: str) -> argparse.ArgumentParser:
        parser = super().get_parser(prog_name)
        add_project(parser)
        return parser

    def record(self, parsed_args: argparse.Namespace) -> dict[str, Any]:
        return call(self.app, "POST", project_path(parsed_args.project, "check"))


class CloudCredentials(records.ShowCommand):
    """Short-lived credentials of a project's account (service role or admin only)."""

    def get_parser(self, prog_name: str) -> argparse.ArgumentParser:
        parser = super().get_parser(prog_name)
        add_project(parser)
        return parser

    def record(self, parsed_args: argparse.Namespace) -> dict[str, Any]:
        return call(self.app, "POST", project_path(parsed_args.project, "credentials"))
