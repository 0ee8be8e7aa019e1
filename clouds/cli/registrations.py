"""``openstack aos clouds images register|list|unregister`` and ``flavors register``."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from aos.cli import records
from clouds.cli.accounts import add_project, call, project_path

#: Flavors created per API request, so a long registration shows progress.
FLAVORS_PER_REQUEST = 25
FLAVOR_FIELDS = ("id", "name", "cloud_type", "vcpus", "ram_mb", "status")


class ImageRegister(records.ShowCommand):
    """Register a cloud image (AMI or Yandex image id) as a private Glance image.

    Name, architecture and minimum disk come from the cloud; no data is uploaded. Running
    it again returns the same Glance image.
    """

    def get_parser(self, prog_name: str) -> argparse.ArgumentParser:
        parser = super().get_parser(prog_name)
        add_project(parser)
        parser.add_argument("--cloud-image-id", required=True, metavar="<id>",
                            help="Image id in the cloud, e.g. ami-0f7919c33c90f5b58.")
        parser.add_argument("--name", metavar="<name>",
                            help="Glance image name (default: the cloud's image name).")
        return parser

    def record(self, parsed_args: argparse.Namespace) -> dict[str, Any]:
        body = {"cloud_image_id": parsed_args.cloud_image_id}
        if parsed_args.name:
            body["name"] = parsed_args.name
        return call(self.app, "POST", project_path(parsed_args.project, "images"), body)


class ImageList(records.ListCommand):
    """List the cloud images registered for a project."""

    fields = ("image_id", "cloud_image_id", "name", "architecture", "min_disk")

    def get_parser(self, prog_name: str) -> argparse.ArgumentParser:
        parser = super().get_parser(prog_name)
        add_project(parser)
        return parser

    def records(self, parsed_args: argparse.Namespace) -> list[dict[str, Any]]:
        return call(self.app, "GET", project_path(parsed_args.project, "images"))


class ImageUnregister(records.ShowCommand):
    """Delete the Glance image of a registered cloud image (the cloud image stays)."""

    def get_parser(self, prog_name: str) -> argparse.ArgumentParser:
        parser = super().get_parser(prog_name)
        add_project(parser)
        parser.add_argument("image", metavar="<image>",
                            help="Glance image id or cloud image id.")
        return parser

    def record(self, parsed_args: argparse.Namespace) -> dict[str, Any]:
        call(self.app, "DELETE", project_path(parsed_args.project, "images",
                                                parsed_args.image))
        return {"image": parsed_args.image, "unregistered": True}


class FlavorRegister(records.ListCommand):
    """Create private flavors for the instance types the cloud offers in the project's zone.

    Each flavor is named <project>.<type> and carries the extra spec
    aos:cloud_instance_type=<type>; existing ones are kept, so it can run again.
    """

    fields = FLAVOR_FIELDS

    def get_parser(self, prog_name: str) -> argparse.ArgumentParser:
        parser = super().get_parser(prog_name)
        add_project(parser)
        parser.add_argument("--filter", dest="filters", action="append", default=[],
                            metavar="<glob>",
                            help="Only types matching this pattern, e.g. 't3.*' (repeatable).")
        parser.add_argument("--dry-run", action="store_true",
                            help="Show what would be created; change nothing.")
        return parser

    def records(self, parsed_args: argparse.Namespace) -> list[dict[str, Any]]:
        flavors_path = project_path(parsed_args.project, "flavors")
        plan = call(self.app, "POST", flavors_path,
                    {"filter": parsed_args.filters, "dry_run": True})["flavors"]
        if parsed_args.dry_run:
            return plan
        missing = [f["cloud_type"] for f in plan if f["status"] != "exists"]
        done = {f["cloud_type"]: f for f in plan if f["status"] == "exists"}
        for start in _progress(range(0, len(missing), FLAVORS_PER_REQUEST), len(missing)):
            chunk = missing[start:start + FLAVORS_PER_REQUEST]
            answer = call(self.app, "POST", flavors_path,
                          {"filter": parsed_args.filters, "types": chunk})
            done.update({f["cloud_type"]: f for f in answer["flavors"]})
        return sorted(done.values(), key=lambda f: f["name"])


def _progress(chunks: range, total: int):
    """A progress bar on stderr when there is more than one request to make."""
    if len(chunks) <= 1 or not sys.stderr.isatty():
        yield from chunks
        return
    from rich.progress import Progress

    with Progress(transient=True) as progress:
        task = progress.add_task("creating flavors", total=total)
        for start in chunks:
            yield start
            progress.update(task, completed=min(total, start + FLAVORS_PER_REQUEST))


class ResourceList(records.ListCommand):
    """List a project's OpenStack ↔ cloud resource map; --drift shows only mapped objects
    gone from the cloud behind OpenStack's back (reported, nothing is deleted)."""

    fields = ("kind", "openstack_id", "cloud_resource_id")

    def get_parser(self, prog_name: str) -> argparse.ArgumentParser:
        parser = super().get_parser(prog_name)
        add_project(parser)
        parser.add_argument("--kind", metavar="<kind>",
                            help="Only this kind (instance, volume, image, network, subnet, "
                            "router, floating_ip, snapshot).")
        parser.add_argument("--drift", action="store_true",
                            help="Ask the cloud which mapped objects are gone.")
        return parser

    def records(self, parsed_args: argparse.Namespace) -> list[dict[str, Any]]:
        what = "drift" if parsed_args.drift else "resources"
        if parsed_args.drift:
            self.fields = (*ResourceList.fields, "drift")
        return call(self.app, "GET", project_path(parsed_args.project, what),
                    params={"kind": parsed_args.kind})
