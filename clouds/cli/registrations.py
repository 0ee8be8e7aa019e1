"""``openstack aos clouds images register|list|unregister`` and ``flavors register``."""

from __future__ import annotations

import argparse
import contextlib
import sys
import time
from typing import Any

from osc_lib import exceptions

from aos.cli import records
from clouds.cli.accounts import add_project, call, project_path

#: Flavors created per API request, so a long registration shows progress.
FLAVORS_PER_REQUEST = 25
#: Seconds between two looks at an upload, and the longest --wait by default.
UPLOAD_POLL = 2.0
UPLOAD_WAIT = 3600.0
FLAVOR_FIELDS = ("id", "name", "cloud_type", "vcpus", "ram_mb", "root_disk_gb", "status")


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


class ImageUpload(records.ShowCommand):
    """Upload a Glance image of the project to its cloud, as a worker task.

    AWS: the file goes to the configured S3 bucket, VM Import makes an AMI of it, and the AMI
    is registered back in Glance like 'images register' does. --wait follows the task to
    its end with a progress bar; running it again for the same image shows the same upload.
    """

    def get_parser(self, prog_name: str) -> argparse.ArgumentParser:
        parser = super().get_parser(prog_name)
        add_project(parser)
        parser.add_argument("image", metavar="<image>", help="Glance image id.")
        parser.add_argument("--wait", action="store_true",
                            help="Follow the upload until it is done or failed.")
        parser.add_argument("--timeout", type=float, default=UPLOAD_WAIT, metavar="<seconds>",
                            help=f"Longest --wait (default {UPLOAD_WAIT:.0f}).")
        return parser

    def record(self, parsed_args: argparse.Namespace) -> dict[str, Any]:
        upload = call(self.app, "POST", project_path(parsed_args.project, "image-uploads"),
                      {"image_id": parsed_args.image})
        if parsed_args.wait:
            upload = _follow(self.app, parsed_args.project, upload, parsed_args.timeout)
        return upload


def _follow(app: Any, project: str, upload: dict[str, Any], timeout: float,
            sleep: Any = time.sleep) -> dict[str, Any]:
    """Poll the upload until it ends; a bar on a terminal; failure is one error line."""
    path = project_path(project, "image-uploads", str(upload["id"]))
    deadline = time.monotonic() + timeout
    with _upload_bar() as show:
        while upload["state"] not in ("done", "failed"):
            show(upload)
            if time.monotonic() >= deadline:
                raise exceptions.CommandError(
                    f"upload {upload['id']} is still {upload['state']} after {timeout:.0f} s "
                    "(it goes on: 'images upload' again shows it)")
            sleep(UPLOAD_POLL)
            upload = call(app, "GET", path)
        show(upload)
    if upload["state"] == "failed":
        raise exceptions.CommandError(f"upload {upload['id']} of image {upload['image_id']} "
                                      f"failed: {upload['error']}")
    return upload


@contextlib.contextmanager
def _upload_bar():
    if not sys.stderr.isatty():
        yield lambda upload: None
        return
    from rich.progress import Progress

    with Progress(transient=True) as progress:
        task = progress.add_task("uploading", total=100)

        def show(upload: dict[str, Any]) -> None:
            progress.update(task, completed=upload["progress"],
                            description=f"image {upload['image_id'][:8]}: {upload['state']}")

        yield show


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
        parser.add_argument("--root-disk-gb", type=records.positive_int, metavar="<GB>",
                            help="Boot volume size of the new flavors (the image's own size "
                                 "if that is larger). Default: the Clouds API's default.")
        parser.add_argument("--dry-run", action="store_true",
                            help="Show what would be created; change nothing.")
        return parser

    def records(self, parsed_args: argparse.Namespace) -> list[dict[str, Any]]:
        flavors_path = project_path(parsed_args.project, "flavors")
        common: dict[str, Any] = {"filter": parsed_args.filters}
        if parsed_args.root_disk_gb:
            common["root_disk_gb"] = parsed_args.root_disk_gb
        plan = call(self.app, "POST", flavors_path, {**common, "dry_run": True})["flavors"]
        if parsed_args.dry_run:
            return plan
        missing = [f["cloud_type"] for f in plan if f["status"] != "exists"]
        done = {f["cloud_type"]: f for f in plan if f["status"] == "exists"}
        for start in _progress(range(0, len(missing), FLAVORS_PER_REQUEST), len(missing)):
            chunk = missing[start:start + FLAVORS_PER_REQUEST]
            answer = call(self.app, "POST", flavors_path, {**common, "types": chunk})
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
                            help="Only mapped objects the last drift check (the worker's, "
                            "every [worker] drift_interval) found gone from the cloud.")
        parser.add_argument("--check", action="store_true",
                            help="With --drift: ask the cloud now (and store the answer).")
        return parser

    def records(self, parsed_args: argparse.Namespace) -> list[dict[str, Any]]:
        if parsed_args.check and not parsed_args.drift:
            raise exceptions.CommandError("--check goes with --drift")
        if not parsed_args.drift:
            return call(self.app, "GET", project_path(parsed_args.project, "resources"),
                        params={"kind": parsed_args.kind})
        self.fields = (*ResourceList.fields, "drift", "drift_since")
        if parsed_args.check:
            call(self.app, "GET", project_path(parsed_args.project, "drift"),
                 params={"kind": parsed_args.kind})
        return call(self.app, "GET", project_path(parsed_args.project, "resources"),
                    params={"kind": parsed_args.kind, "drift": "true"})
