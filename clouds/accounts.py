"""Cloud accounts and what is registered for them: the logic behind the Clouds API.

Order of every change: validate the input, ask the cloud, and only then write (one
transaction), so a refusal leaves nothing half-created. Secrets are encrypted before they
reach the database and decrypted only to build a provider ``Account``.
"""

from __future__ import annotations

import fnmatch
import json
import logging
import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from aos.crypto import REDACTED
from clouds.db import api as db
from clouds.db.models import Cloud
from clouds.openstack_adapter import (
    AmbiguousProject,
    FlavorSpec,
    OpenStackError,
    Project,
)
from clouds.runtime import Runtime
from clouds_drivers.glance import uris
from clouds_drivers.glance.uris import YANDEX_REGION
from clouds_drivers.providers.base import Account, CloudImage, InstanceType
from clouds_drivers.tags import (
    FLAVOR_CLOUD_SPEC,
    FLAVOR_TYPE_SPEC,
    IMAGE_CLOUD_PROPERTY,
    IMAGE_ID_PROPERTY,
)

LOG = logging.getLogger(__name__)
#: Secret fields per provider (stored encrypted) and the plain ones kept in ``options``.
SECRET_FIELDS = {"aws": ("access_key", "secret_key"),
                 "yandex": ("service_account_id", "key_id", "private_key")}
OPTION_FIELDS = {"aws": (), "yandex": ("folder_id",)}
#: Namespace of the deterministic flavor ids (same project + type → same id).
FLAVOR_NAMESPACE = uuid.UUID("5d0c2f6e-5a35-4d8e-9b1e-6a0c3f1c7a11")
# Root disk of registered flavors unless asked otherwise: Nova's m1.small's size; Linux images
# of both clouds need 8-16 GB, Windows images more (register those with --root-disk-gb).
DEFAULT_ROOT_DISK_GB = 20
# EBS and Yandex boot disks both end at 16 TiB.
MAX_ROOT_DISK_GB = 16384


class BadRequest(Exception):
    """The caller's input is wrong; nothing was changed."""


class NoSuchProject(LookupError):
    pass


# --- pure decisions -------------------------------------------------------------------------

def split_input(provider: str, body: dict[str, Any]) -> tuple[dict[str, str], dict[str, Any]]:
    """(secrets, options) of an add/set body."""
    secrets = {key: body[key] for key in SECRET_FIELDS[provider] if key in body}
    options = {key: body[key] for key in OPTION_FIELDS[provider] if key in body}
    return secrets, options


def is_fresh(expires_at: datetime | None, now: datetime, margin: timedelta) -> bool:
    """Cached credentials are handed out only until ``margin`` before they expire."""
    return expires_at is not None and expires_at - margin > now


def flavor_plan(types: Iterable[InstanceType], *, provider: str, project: Project,
                patterns: list[str], only: list[str] | None = None,
                root_disk_gb: int = DEFAULT_ROOT_DISK_GB) -> list[FlavorSpec]:
    """Private flavors for ``project``: one per offered type matching any glob of ``patterns``.

    Names are ``<project name>.<type>`` (Nova flavor names are global); ids derive from
    project and type, so registering twice finds the same flavors. The root disk is the boot
    volume the compute driver creates; it is never 0, since Nova lets only admins boot an
    image on a zero-disk flavor.
    """
    chosen = []
    for item in types:
        if patterns and not any(fnmatch.fnmatchcase(item.name, p) for p in patterns):
            continue
        if only is not None and item.name not in only:
            continue
        flavor_id = str(uuid.uuid5(FLAVOR_NAMESPACE, f"{project.id}/{provider}/{item.name}"))
        specs = {FLAVOR_CLOUD_SPEC: provider, FLAVOR_TYPE_SPEC: item.name}
        chosen.append(FlavorSpec(id=flavor_id, name=f"{project.name}.{item.name}",
                                 vcpus=item.vcpus, ram_mb=item.ram_mb, disk_gb=root_disk_gb,
                                 extra_specs=specs))
    return chosen


def drift(mapped: Iterable[tuple[str, str, str]], existing: dict[str, set[str] | None]
          ) -> list[dict[str, str]]:
    """Mapped (kind, openstack id, cloud id) whose cloud object is gone behind OpenStack's
    back. Kinds the cloud cannot list (None) are not judged."""
    return [{"kind": kind, "openstack_id": openstack_id, "cloud_resource_id": cloud_id,
             "drift": "missing in the cloud"}
            for kind, openstack_id, cloud_id in mapped
            if existing.get(kind) is not None and cloud_id not in existing[kind]]


def image_attrs(provider: str, image: CloudImage, name: str | None) -> dict[str, Any]:
    """Glance attributes of the image standing for ``image`` (no data: the cloud has it)."""
    return {"name": name or image.name, "min_disk": image.min_disk_gb,
            "architecture": image.architecture, IMAGE_CLOUD_PROPERTY: provider,
            IMAGE_ID_PROPERTY: image.id}


def cloud_image_location(account: Account, project_id: str, cloud_image_id: str) -> str:
    """The URI of the cloud image in its cloud's Glance store."""
    region = account.region if account.provider == "aws" else YANDEX_REGION
    return uris.cloud_image(account.provider, region or "", cloud_image_id, project_id).uri()


# --- views ----------------------------------------------------------------------------------

def view(row: Cloud, project_name: str | None = None) -> dict[str, Any]:
    options = db.options_of(row)
    return {
        "project_id": row.project_id,
        "project_name": project_name,
        "provider": row.provider,
        "region": row.region,
        "availability_zone": row.availability_zone,
        **{key: options.get(key) for key in OPTION_FIELDS[row.provider]},
        "credentials": REDACTED,
        "created_at": row.created_at.isoformat() + "Z",
        "updated_at": row.updated_at.isoformat() + "Z",
    }


def resource_view(row: Any) -> dict[str, Any]:
    return {"kind": row.kind, "openstack_id": row.openstack_id,
            "cloud_resource_id": row.cloud_resource_id, "data": db.data_of(row),
            "created_at": row.created_at.isoformat() + "Z", "drift": row.drift,
            "drift_since": row.drift_since.isoformat() + "Z" if row.drift_since else None}


# --- the service ----------------------------------------------------------------------------

@dataclass
class Accounts:
    runtime: Runtime

    def project(self, name_or_id: str) -> Project:
        if not re.fullmatch(r"\S+", name_or_id):  # Keystone refuses such names (400)
            raise NoSuchProject(f"no project {name_or_id!r} in Keystone")
        try:
            found = self.runtime.openstack.project(name_or_id)
        except AmbiguousProject as exc:
            raise BadRequest(str(exc)) from None
        if found is None:
            raise NoSuchProject(f"no project {name_or_id!r} in Keystone")
        return found

    def account(self, row: Cloud) -> Account:
        """The provider's view of a stored account: the only place secrets are decrypted."""
        secrets = json.loads(self.runtime.secrets.decrypt(row.credentials))
        return Account(provider=row.provider, zone=row.availability_zone, region=row.region,
                       secrets=secrets, options=db.options_of(row))

    def row_of(self, session: Any, project: str) -> tuple[Cloud, str | None]:
        """The account of ``project`` (id or name); ids are tried without asking Keystone."""
        row = db.find_cloud(session, project)
        if row is not None:
            return row, None
        found = self.project(project)
        return db.cloud_of_project(session, found.id, found.name), found.name

    # --- accounts ---------------------------------------------------------------------------

    def add(self, body: dict[str, Any]) -> dict[str, Any]:
        provider = body["provider"]
        project = self.project(body["project"])
        with self.runtime.transaction() as session:  # 409 before asking the cloud
            db.ensure_no_cloud(session, project.id, project.name)
        secrets, options = split_input(provider, body)
        account = Account(provider=provider, zone=body["az"], region=body.get("region"),
                          secrets=secrets, options=options)
        self.runtime.provider(provider).validate(account)
        secrets = self._normalized(provider, secrets)
        with self.runtime.transaction() as session:
            row = db.add_cloud(session, project_id=project.id, provider=provider,
                               region=account.region, zone=account.zone,
                               credentials=self.runtime.secrets.encrypt(json.dumps(secrets)),
                               options=options, label=project.name)
            return view(row, project.name)

    def _normalized(self, provider: str, secrets: dict[str, str]) -> dict[str, str]:
        if provider == "yandex":
            from clouds_drivers.providers.yandex import normalize_private_key

            return {**secrets, "private_key": normalize_private_key(secrets["private_key"])}
        return secrets

    def list(self, provider: str | None = None) -> list[dict[str, Any]]:
        with self.runtime.transaction() as session:
            return [view(row) for row in db.clouds(session, provider)]

    def show(self, project: str) -> dict[str, Any]:
        with self.runtime.transaction() as session:
            row, name = self.row_of(session, project)
            result = view(row, name)
            result["resources"] = db.resource_counts(session, row.id)
            return result

    def update(self, project: str, body: dict[str, Any]) -> dict[str, Any]:
        """New keys, region, zone or folder: checked against the cloud before they are kept."""
        with self.runtime.transaction() as session:
            row, name = self.row_of(session, project)
            current, project_id = self.account(row), row.project_id
        secrets, options = split_input(current.provider, body)
        if current.provider == "aws" and "region" in body and "az" not in body:
            raise BadRequest("a new region needs its availability zone (--az)")
        account = Account(provider=current.provider, zone=body.get("az", current.zone),
                          region=body.get("region", current.region),
                          secrets={**current.secrets, **secrets},
                          options={**current.options, **options})
        if current.provider == "aws" and account.region is None:
            raise BadRequest("an AWS account needs a region")
        self.runtime.provider(current.provider).validate(account)
        new_secrets = self._normalized(current.provider, dict(account.secrets))
        with self.runtime.transaction() as session:
            row = db.cloud_of_project(session, project_id)
            db.update_cloud(row, region=account.region, zone=account.zone,
                            credentials=self.runtime.secrets.encrypt(json.dumps(new_secrets)),
                            options=dict(account.options))
            session.flush()
            return view(row, name)

    def check(self, project: str) -> dict[str, Any]:
        with self.runtime.transaction() as session:
            row, name = self.row_of(session, project)
            account = self.account(row)
        who = self.runtime.provider(account.provider).validate(account)
        return {"project_id": row.project_id, "project_name": name,
                "provider": account.provider, "status": "ok", "principal": who.principal,
                **who.details}

    def delete(self, project: str, force: bool) -> dict[str, Any]:
        """Forget the account; refused while mapped objects live in the cloud unless forced.

        Forcing forgets the mapping only: nothing is deleted in the cloud or in OpenStack.
        """
        with self.runtime.transaction() as session:
            row, _ = self.row_of(session, project)
            live = db.live_resources(session, row.id)
            if live and not force:
                what = ", ".join(f"{count} {kind}" for kind, count in sorted(live.items()))
                raise db.Conflict(f"project {project} still has resources in the cloud "
                                  f"({what}): delete them first, or use force to forget "
                                  "the mapping only")
            db.delete_cloud(session, row)
            return {"project_id": row.project_id, "deleted": True, "forgotten": live}

    # --- short-lived credentials ------------------------------------------------------------

    def credentials(self, project: str, now: datetime | None = None) -> dict[str, Any]:
        now = now or datetime.now(UTC)
        margin = timedelta(seconds=self.runtime.conf.credentials.refresh_margin)
        with self.runtime.transaction() as session:
            row, _ = self.row_of(session, project)
            expires = (row.session_expires_at.replace(tzinfo=UTC)
                       if row.session_expires_at else None)
            if row.session_credentials and is_fresh(expires, now, margin):
                secrets = json.loads(self.runtime.secrets.decrypt(row.session_credentials))
                return _credentials_view(row, secrets, expires, cached=True)
            account = self.account(row)
            project_id = row.project_id
        issued = self.runtime.provider(account.provider).issue_credentials(account)
        expires = issued.expires_at.astimezone(UTC)
        with self.runtime.transaction() as session:
            row = db.cloud_of_project(session, project_id)
            db.save_session_credentials(
                row, self.runtime.secrets.encrypt(json.dumps(issued.secrets)),
                expires.replace(tzinfo=None))
            return _credentials_view(row, issued.secrets, expires, cached=False)

    # --- images -----------------------------------------------------------------------------

    def register_image(self, project: str, cloud_image_id: str,
                       name: str | None = None) -> dict[str, Any]:
        """A private Glance image standing for the cloud image; the same one when repeated."""
        with self.runtime.transaction() as session:
            row, _ = self.row_of(session, project)
            account = self.account(row)
            project_id, cloud_id = row.project_id, row.id
            known = db.find_mapping_of_cloud(session, cloud_id, "registered_image",
                                             cloud_image_id)
        glance = self.runtime.openstack
        found = glance.image(known.openstack_id) if known is not None else None
        if found is not None:
            result = self._image_result(project_id, known.openstack_id, cloud_image_id, False)
            return {**result, **self._locate(account, project_id, found, cloud_image_id)}
        image = self.runtime.provider(account.provider).describe_image(account, cloud_image_id)
        existing = glance.find_images(project_id, account.provider, image.id)
        created = not existing
        glance_image = existing[0] if existing else glance.create_image(
            project_id, image_attrs(account.provider, image, name))
        located = self._locate(account, project_id, glance_image, image.id)
        with self.runtime.transaction() as session:
            if known is not None:
                db.forget(session, db.mapping(session, cloud_id, "registered_image",
                                              known.openstack_id))
            db.record(session, cloud_id, "registered_image", glance_image["id"], image.id,
                      {"name": glance_image.get("name"), "architecture": image.architecture,
                       "min_disk": image.min_disk_gb})
        return {**self._image_result(project_id, glance_image["id"], image.id, created,
                                     glance_image.get("name"), image), **located}

    def _locate(self, account: Account, project_id: str, glance_image: dict[str, Any],
                cloud_image_id: str) -> dict[str, Any]:
        """Give the Glance image the location of the cloud image in its cloud's store.

        Glance checks the location with the store (aws_store, yandex_store of
        glance-api.conf); without that store the image stays a record with properties only,
        which the compute drivers can still boot from, and the answer says why.
        """
        url = cloud_image_location(account, project_id, cloud_image_id)
        if url in {loc.get("url") for loc in glance_image.get("locations") or ()}:
            return {"location": url}
        if glance_image.get("status") not in (None, "queued"):
            return {"location": None}
        try:
            self.runtime.openstack.add_location(glance_image["id"], url)
        except OpenStackError as exc:
            LOG.warning("image %s keeps no location: %s", glance_image["id"], exc)
            return {"location": None, "location_error": str(exc)}
        return {"location": url}

    def _image_result(self, project_id: str, image_id: str, cloud_image_id: str,
                      created: bool, name: str | None = None,
                      image: CloudImage | None = None) -> dict[str, Any]:
        result = {"project_id": project_id, "image_id": image_id,
                  "cloud_image_id": cloud_image_id, "created": created}
        if name is not None:
            result["name"] = name
        if image is not None:
            result.update(architecture=image.architecture, min_disk=image.min_disk_gb)
        return result

    def images(self, project: str) -> list[dict[str, Any]]:
        with self.runtime.transaction() as session:
            row, _ = self.row_of(session, project)
            return [{"image_id": r.openstack_id, "cloud_image_id": r.cloud_resource_id,
                     **db.data_of(r)} for r in db.resources(session, row.id, "registered_image")]

    def unregister_image(self, project: str, image: str) -> None:
        """Delete the Glance image (by its id or the cloud image id); the cloud keeps its own."""
        with self.runtime.transaction() as session:
            row, _ = self.row_of(session, project)
            mapped = (db.find_mapping(session, row.id, "registered_image", image)
                      or db.find_mapping_of_cloud(session, row.id, "registered_image", image))
            if mapped is None:
                raise db.NotFound(f"no image {image} registered for project {project}")
            image_id, cloud_id = mapped.openstack_id, row.id
        self.runtime.openstack.delete_image(image_id)
        with self.runtime.transaction() as session:
            found = db.find_mapping(session, cloud_id, "registered_image", image_id)
            if found is not None:
                db.forget(session, found)

    # --- flavors ----------------------------------------------------------------------------

    def register_flavors(self, project: str, patterns: list[str], dry_run: bool,
                         only: list[str] | None = None,
                         root_disk_gb: int = DEFAULT_ROOT_DISK_GB) -> dict[str, Any]:
        """Private flavors for what the cloud offers in the zone; existing ones are kept (with
        the root disk they were made with: Nova flavors cannot change)."""
        with self.runtime.transaction() as session:
            row, _ = self.row_of(session, project)
            account = self.account(row)
            cloud_id = row.id
        target = self.project(row.project_id)
        offered = self.runtime.instance_types(cloud_id, account)
        plan = flavor_plan(offered, provider=account.provider, project=target,
                           patterns=patterns, only=only, root_disk_gb=root_disk_gb)
        nova = self.runtime.openstack
        known = nova.flavor_disks() if plan else {}
        created, existing = [], []
        for spec in plan:
            if dry_run:
                (existing if spec.id in known else created).append(spec)
                continue
            if spec.id in known:
                existing.append(spec)
            else:
                nova.create_flavor(target.id, spec)
                created.append(spec)
            with self.runtime.transaction() as session:
                db.record(session, cloud_id, "flavor", spec.id,
                          spec.extra_specs[FLAVOR_TYPE_SPEC], {"name": spec.name})
        return {"project_id": target.id, "dry_run": dry_run, "offered": len(offered),
                "matched": len(plan),
                "flavors": [_flavor_view(s, "would create" if dry_run else "created")
                            for s in created]
                + [_flavor_view(replace(s, disk_gb=known[s.id]), "exists") for s in existing]}

    # --- resource map -----------------------------------------------------------------------

    def record_resource(self, project: str, body: dict[str, Any]) -> tuple[dict[str, Any], bool]:
        with self.runtime.transaction() as session:
            row, _ = self.row_of(session, project)
            mapped, created = db.record(session, row.id, body["kind"], body["openstack_id"],
                                        body["cloud_resource_id"], body.get("data"))
            return resource_view(mapped), created

    def resources(self, project: str, kind: str | None = None,
                  cloud_resource_id: str | None = None, drifted: bool = False
                  ) -> list[dict[str, Any]]:
        with self.runtime.transaction() as session:
            row, _ = self.row_of(session, project)
            if cloud_resource_id is not None:
                if kind is None:
                    raise BadRequest("looking up a cloud resource id needs its kind")
                return [resource_view(db.mapping_of_cloud_resource(
                    session, row.id, kind, cloud_resource_id))]
            return [resource_view(r) for r in db.resources(session, row.id, kind, drifted)]

    def resource(self, project: str, kind: str, openstack_id: str) -> dict[str, Any]:
        with self.runtime.transaction() as session:
            row, _ = self.row_of(session, project)
            return resource_view(db.mapping(session, row.id, kind, openstack_id))

    def drift(self, project: str, kind: str | None = None,
              now: datetime | None = None) -> list[dict[str, str]]:
        """Mapped resources gone from the cloud, asked of the cloud now and stored on the map
        (``resource list --drift`` reads it): reported only, nothing deleted either side.

        One paginated listing per kind in the map, not one call per resource.
        """
        with self.runtime.transaction() as session:
            row, _ = self.row_of(session, project)
            account = self.account(row)
            cloud_id = row.id
            mapped = db.mapped_ids(session, row.id, db.RESOURCE_KINDS, kind)
        provider = self.runtime.provider(account.provider)
        existing = {k: provider.existing(account, k) for k in sorted({m[0] for m in mapped})}
        found = drift(mapped, existing)
        judged = {k for k, listed in existing.items() if listed is not None}
        with self.runtime.transaction() as session:
            db.store_drift(session, cloud_id, judged,
                           {(d["kind"], d["openstack_id"]): d["drift"] for d in found},
                           (now or datetime.now(UTC)).replace(tzinfo=None))
        return found

    def forget_resource(self, project: str, kind: str, openstack_id: str) -> None:
        with self.runtime.transaction() as session:
            row, _ = self.row_of(session, project)
            db.forget(session, db.mapping(session, row.id, kind, openstack_id))


def _credentials_view(row: Cloud, secrets: dict[str, str], expires: datetime,
                      cached: bool) -> dict[str, Any]:
    return {"project_id": row.project_id, "provider": row.provider, "region": row.region,
            "availability_zone": row.availability_zone, **db.options_of(row),
            "expires_at": expires.isoformat(), "cached": cached, "credentials": secrets}


def _flavor_view(spec: FlavorSpec, status: str) -> dict[str, Any]:
    return {"id": spec.id, "name": spec.name, "vcpus": spec.vcpus, "ram_mb": spec.ram_mb,
            "root_disk_gb": spec.disk_gb, "cloud_type": spec.extra_specs[FLAVOR_TYPE_SPEC],
            "status": status}
