"""The Clouds REST API: accounts, short-lived credentials, images, flavors, resource map.

Views are thin: ``clouds.accounts.Accounts`` does the work; this module declares routes,
schemas and policies, and turns each kind of failure into one status with one message.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from typing import Any

import flask

from aos.api.app import Api, APIError, RequestContext, extension
from aos.crypto import SecretKeyError
from aos.openstack import OpenStackConfigError
from clouds.accounts import (
    DEFAULT_ROOT_DISK_GB,
    MAX_ROOT_DISK_GB,
    Accounts,
    BadRequest,
    NoSuchProject,
)
from clouds.api.policies import RULES
from clouds.db import api as db
from clouds.image_uploads import UPLOAD_TASK, ImageUploads, NoSuchImage
from clouds.openstack_adapter import OpenStackError
from clouds_drivers.providers.base import CloudError

API = Api("Clouds", "1", RULES)
LOG = logging.getLogger(__name__)

_TEXT = {"type": "string", "minLength": 1, "maxLength": 255}
_PROJECT = {"type": "string", "minLength": 1, "maxLength": 64}
_AZ = {"type": "string", "minLength": 1, "maxLength": 64}

AWS_ADD = {
    "type": "object",
    "properties": {"provider": {"enum": ["aws"]}, "project": _PROJECT, "access_key": _TEXT,
                   "secret_key": _TEXT, "region": _AZ, "az": _AZ},
    "required": ["provider", "project", "access_key", "secret_key", "region", "az"],
    "additionalProperties": False,
}
YANDEX_ADD = {
    "type": "object",
    "properties": {"provider": {"enum": ["yandex"]}, "project": _PROJECT,
                   "service_account_id": _TEXT, "key_id": _TEXT,
                   "private_key": {"type": "string", "minLength": 1, "maxLength": 20000},
                   "folder_id": _TEXT, "az": _AZ},
    "required": ["provider", "project", "service_account_id", "key_id", "private_key",
                 "folder_id", "az"],
    "additionalProperties": False,
}
# One branch per provider, each pinning ``provider`` to one value: the API answers with the
# error inside the branch the body names (aos.api.app), and schema-driven clients (and
# schemathesis) can generate valid bodies, which they could not from if/then/else.
ADD_SCHEMA = {
    "type": "object",
    "properties": {"provider": {"enum": ["aws", "yandex"]}},
    "required": ["provider"],
    "oneOf": [AWS_ADD, YANDEX_ADD],
}
UPDATE_SCHEMA = {
    "type": "object",
    "properties": {key: value for schema in (AWS_ADD, YANDEX_ADD)
                   for key, value in schema["properties"].items()
                   if key not in ("provider", "project")},
    "minProperties": 1,
    "additionalProperties": False,
}
IMAGE_SCHEMA = {
    "type": "object",
    "properties": {"cloud_image_id": _TEXT, "name": _TEXT},
    "required": ["cloud_image_id"],
    "additionalProperties": False,
}
UPLOAD_SCHEMA = {
    "type": "object",
    "properties": {"image_id": _PROJECT},
    "required": ["image_id"],
    "additionalProperties": False,
}
FLAVORS_SCHEMA = {
    "type": "object",
    "properties": {
        "filter": {"type": "array", "items": _TEXT, "maxItems": 100},
        "types": {"type": "array", "items": _TEXT, "maxItems": 500},
        "dry_run": {"type": "boolean"},
        "root_disk_gb": {"type": "integer", "minimum": 1, "maximum": MAX_ROOT_DISK_GB},
    },
    "additionalProperties": False,
}
RESOURCE_SCHEMA = {
    "type": "object",
    "properties": {"kind": {"enum": list(db.RESOURCE_KINDS)}, "openstack_id": _PROJECT,
                   "cloud_resource_id": _TEXT, "data": {"type": "object"}},
    "required": ["kind", "openstack_id", "cloud_resource_id"],
    "additionalProperties": False,
}
_BOOLEANS = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}


def _accounts() -> Accounts:
    return Accounts(extension("runtime"))


@contextlib.contextmanager
def _answers() -> Iterator[None]:
    """Every expected failure as one status and one line; the cloud's message kept."""
    try:
        yield
    except (db.NotFound, NoSuchProject, NoSuchImage) as exc:
        raise APIError(404, str(exc)) from None
    except db.Conflict as exc:
        raise APIError(409, str(exc)) from None
    except BadRequest as exc:
        raise APIError(400, str(exc)) from None
    except CloudError as exc:
        if exc.field:
            status = 404 if exc.not_found and exc.field == "cloud_image_id" else 400
            raise APIError(status, f"{exc.field}: {exc}") from None
        raise APIError(404 if exc.not_found else 502, str(exc)) from None
    except OpenStackError as exc:
        raise APIError(502, str(exc)) from None
    except SecretKeyError as exc:
        LOG.error("cannot use the secret key: %s", exc)
        raise APIError(503, f"the Clouds service cannot read its secret key: {exc}") from None
    except OpenStackConfigError as exc:
        LOG.error("cannot reach OpenStack: %s (clouds.conf)", exc)
        raise APIError(503, f"the Clouds service is not configured to reach OpenStack: "
                       f"{exc} in clouds.conf") from None


def _flag(name: str) -> bool:
    value = flask.request.args.get(name, "")
    if value == "":
        return False
    try:
        return _BOOLEANS[value.lower()]
    except KeyError:
        raise APIError(400, f"query parameter {name} must be true or false") from None


# --- accounts -------------------------------------------------------------------------------

@API.route("/v1/clouds", rule="clouds:account:list", summary="List cloud accounts.",
           query={"provider": "Only accounts of this cloud (aws, yandex)."})
def list_clouds(context: RequestContext) -> list[dict[str, Any]]:
    with _answers():
        return _accounts().list(flask.request.args.get("provider") or None)


@API.route("/v1/clouds", "POST", rule="clouds:account:create", schema=ADD_SCHEMA, status=201,
           summary="Bind a cloud account to a project after checking it against the cloud.")
def add_cloud(context: RequestContext, body: dict[str, Any]) -> dict[str, Any]:
    with _answers():
        return _accounts().add(body)


@API.route("/v1/clouds/{project}", rule="clouds:account:show",
           summary="Show a project's cloud account (credentials never shown).")
def show_cloud(context: RequestContext, project: str) -> dict[str, Any]:
    with _answers():
        return _accounts().show(project)


@API.route("/v1/clouds/{project}", "PATCH", rule="clouds:account:update",
           schema=UPDATE_SCHEMA, summary="Change keys, region, zone or folder (checked first).")
def update_cloud(context: RequestContext, body: dict[str, Any], project: str
                 ) -> dict[str, Any]:
    with _answers():
        return _accounts().update(project, body)


@API.route("/v1/clouds/{project}", "DELETE", rule="clouds:account:delete",
           summary="Delete a project's account; refused while mapped resources live in the "
           "cloud unless force=true (which forgets the mapping only).",
           query={"force": ("true: forget the mapping of resources still in the cloud.",
                            {"type": "boolean"})},
           status=200)
def delete_cloud(context: RequestContext, project: str) -> dict[str, Any]:
    force = _flag("force")
    with _answers():
        return _accounts().delete(project, force)


@API.route("/v1/clouds/{project}/check", "POST", rule="clouds:account:check",
           summary="Check the stored account against its cloud.")
def check_cloud(context: RequestContext, project: str) -> dict[str, Any]:
    with _answers():
        return _accounts().check(project)


@API.route("/v1/clouds/{project}/credentials", "POST", rule="clouds:credentials:issue",
           summary="Short-lived credentials of the project's account (cached until shortly "
           "before they expire).")
def issue_credentials(context: RequestContext, project: str) -> dict[str, Any]:
    with _answers():
        return _accounts().credentials(project)


# --- images and flavors ---------------------------------------------------------------------

@API.route("/v1/clouds/{project}/images", "POST", rule="clouds:image:register",
           schema=IMAGE_SCHEMA, summary="Register a cloud image as a private Glance image.")
def register_image(context: RequestContext, body: dict[str, Any], project: str
                   ) -> dict[str, Any]:
    with _answers():
        return _accounts().register_image(project, body["cloud_image_id"], body.get("name"))


@API.route("/v1/clouds/{project}/images", rule="clouds:image:list",
           summary="List the cloud images registered for a project.")
def list_images(context: RequestContext, project: str) -> list[dict[str, Any]]:
    with _answers():
        return _accounts().images(project)


def _uploads() -> ImageUploads:
    runtime = extension("runtime")
    return ImageUploads(runtime, lambda upload_id: runtime.dispatch(UPLOAD_TASK, upload_id))


@API.route("/v1/clouds/{project}/image-uploads", "POST", rule="clouds:image:upload",
           schema=UPLOAD_SCHEMA, status=202,
           summary="Upload a Glance image of the project to its cloud (a worker task); the "
           "same image again returns the same upload, a failed one starts again.")
def upload_image(context: RequestContext, body: dict[str, Any], project: str
                 ) -> dict[str, Any]:
    with _answers():
        upload, _ = _uploads().request(project, body["image_id"])
        return upload


@API.route("/v1/clouds/{project}/image-uploads", rule="clouds:image:upload:show",
           summary="List the project's image uploads.")
def list_uploads(context: RequestContext, project: str) -> list[dict[str, Any]]:
    with _answers():
        return _uploads().list(project)


@API.route("/v1/clouds/{project}/image-uploads/{upload_id}", rule="clouds:image:upload:show",
           summary="One image upload: state, progress, the resulting cloud and Glance image.")
def show_upload(context: RequestContext, project: str, upload_id: str) -> dict[str, Any]:
    if not upload_id.isdigit():
        raise APIError(404, f"no image upload {upload_id}")
    with _answers():
        return _uploads().show(project, int(upload_id))


@API.route("/v1/clouds/{project}/images/{image}", "DELETE", rule="clouds:image:unregister",
           summary="Delete the Glance image of a registered cloud image (by either id).")
def unregister_image(context: RequestContext, project: str, image: str) -> None:
    with _answers():
        _accounts().unregister_image(project, image)


@API.route("/v1/clouds/{project}/flavors", "POST", rule="clouds:flavor:register",
           schema=FLAVORS_SCHEMA,
           summary="Create private flavors for the instance types offered in the zone.")
def register_flavors(context: RequestContext, body: dict[str, Any], project: str
                     ) -> dict[str, Any]:
    with _answers():
        return _accounts().register_flavors(
            project, body.get("filter", []), body.get("dry_run", False), body.get("types"),
            body.get("root_disk_gb", DEFAULT_ROOT_DISK_GB))


# --- resource map ---------------------------------------------------------------------------

@API.route("/v1/clouds/{project}/resources", rule="clouds:resource:list",
           summary="List mapped resources, or find the one mapped to a cloud id.",
           query={"kind": "Only this kind.",
                  "cloud_resource_id": "The OpenStack object mapped to this cloud id "
                  "(needs kind).",
                  "drift": ("true: only the objects the last drift check found gone.",
                            {"type": "boolean"})})
def list_resources(context: RequestContext, project: str) -> list[dict[str, Any]]:
    args = flask.request.args
    drifted = _flag("drift")
    with _answers():
        return _accounts().resources(project, args.get("kind") or None,
                                     args.get("cloud_resource_id") or None, drifted)


@API.route("/v1/clouds/{project}/drift", rule="clouds:resource:drift",
           summary="Ask the cloud now which mapped objects are gone; the answer is stored on "
           "the map (reported, never deleted).",
           query={"kind": "Only this kind."})
def list_drift(context: RequestContext, project: str) -> list[dict[str, Any]]:
    with _answers():
        return _accounts().drift(project, flask.request.args.get("kind") or None)


@API.route("/v1/clouds/{project}/resources/{kind}/{openstack_id}",
           rule="clouds:resource:list", summary="The cloud id mapped to an OpenStack id.")
def show_resource(context: RequestContext, project: str, kind: str, openstack_id: str
                  ) -> dict[str, Any]:
    with _answers():
        return _accounts().resource(project, kind, openstack_id)


@API.route("/v1/clouds/{project}/resources", "POST", rule="clouds:resource:record",
           schema=RESOURCE_SCHEMA, status=201,
           summary="Record that an OpenStack object lives in the cloud as a cloud object.")
def record_resource(context: RequestContext, body: dict[str, Any], project: str
                    ) -> dict[str, Any]:
    with _answers():
        result, _ = _accounts().record_resource(project, body)
        return result


@API.route("/v1/clouds/{project}/resources/{kind}/{openstack_id}", "DELETE",
           rule="clouds:resource:forget", summary="Forget a mapping (the cloud object is "
           "not touched).")
def forget_resource(context: RequestContext, project: str, kind: str, openstack_id: str
                    ) -> None:
    with _answers():
        _accounts().forget_resource(project, kind, openstack_id)
