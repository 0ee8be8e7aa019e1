"""Default policy rules of the Clouds API; override them in policy.yaml.

Three callers: cloud admins (``admin``) manage accounts and registrations; OpenStack
services running the drivers (``service`` role) read accounts, take short-lived
credentials and keep the resource map; project members get none of it (403).
"""

from oslo_policy import policy

from aos.api.policy import base_rules, operation

ADMIN = "rule:admin_api"
ADMIN_OR_SERVICE = "rule:admin_api or role:service"

RULES: list[policy.RuleDefault] = [
    *base_rules(),
    operation("clouds:account:list", ADMIN_OR_SERVICE, "List cloud accounts.",
              "GET", "/v1/clouds"),
    operation("clouds:account:show", ADMIN_OR_SERVICE, "Show a project's cloud account.",
              "GET", "/v1/clouds/{project}"),
    operation("clouds:account:create", ADMIN, "Bind a cloud account to a project.",
              "POST", "/v1/clouds"),
    operation("clouds:account:update", ADMIN, "Change a project's cloud account.",
              "PATCH", "/v1/clouds/{project}"),
    operation("clouds:account:delete", ADMIN, "Delete a project's cloud account.",
              "DELETE", "/v1/clouds/{project}"),
    operation("clouds:account:check", ADMIN, "Check an account against its cloud.",
              "POST", "/v1/clouds/{project}/check"),
    operation("clouds:credentials:issue", ADMIN_OR_SERVICE,
              "Short-lived cloud credentials of a project (drivers).",
              "POST", "/v1/clouds/{project}/credentials"),
    operation("clouds:image:register", ADMIN, "Register a cloud image in Glance.",
              "POST", "/v1/clouds/{project}/images"),
    operation("clouds:image:list", ADMIN_OR_SERVICE, "List registered cloud images.",
              "GET", "/v1/clouds/{project}/images"),
    operation("clouds:image:unregister", ADMIN, "Unregister a cloud image.",
              "DELETE", "/v1/clouds/{project}/images/{image}"),
    operation("clouds:image:upload", ADMIN, "Upload a Glance image to the project's cloud.",
              "POST", "/v1/clouds/{project}/image-uploads"),
    operation("clouds:image:upload:show", ADMIN, "Show image uploads and their progress.",
              "GET", "/v1/clouds/{project}/image-uploads"),
    operation("clouds:flavor:register", ADMIN, "Register the cloud's instance types.",
              "POST", "/v1/clouds/{project}/flavors"),
    operation("clouds:resource:list", ADMIN_OR_SERVICE, "List or look up mapped resources.",
              "GET", "/v1/clouds/{project}/resources"),
    operation("clouds:resource:drift", ADMIN_OR_SERVICE,
              "Mapped resources gone from the cloud.", "GET", "/v1/clouds/{project}/drift"),
    operation("clouds:resource:record", ADMIN_OR_SERVICE,
              "Record an OpenStack id ↔ cloud id mapping.",
              "POST", "/v1/clouds/{project}/resources"),
    operation("clouds:resource:forget", ADMIN_OR_SERVICE, "Forget a mapping.",
              "DELETE", "/v1/clouds/{project}/resources/{kind}/{openstack_id}"),
]


def list_rules() -> list[policy.RuleDefault]:
    return RULES
