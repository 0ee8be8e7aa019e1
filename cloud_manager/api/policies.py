"""Default policy rules of the CloudManager API; override them in policy.yaml."""

from oslo_policy import policy

from aos.api.policy import base_rules, operation

ADMIN = "rule:admin_api"
READER = "rule:reader_api"

RULES: list[policy.RuleDefault] = [
    *base_rules(),
    operation("cloud_manager:node:list", READER, "List compute nodes.", "GET", "/v1/nodes"),
    operation("cloud_manager:node:show", READER, "Show a compute node and its history.",
              "GET", "/v1/nodes/{hostname}"),
    operation("cloud_manager:node:add", ADMIN,
              "Add a bare node by MAC and power device and provision it.",
              "POST", "/v1/nodes"),
    operation("cloud_manager:node:evacuate", ADMIN, "Evacuate a compute node.",
              "POST", "/v1/nodes/{hostname}/evacuate"),
    operation("cloud_manager:node:shutdown", ADMIN,
              "Shut a node down through its power device and evacuate it.",
              "POST", "/v1/nodes/{hostname}/shutdown"),
    operation("cloud_manager:node:update", ADMIN,
              "Put a node into or out of maintenance or the reserve.",
              "PATCH", "/v1/nodes/{hostname}"),
    operation("cloud_manager:power_device:list", READER, "List power devices.",
              "GET", "/v1/power-devices"),
    operation("cloud_manager:power_device:show", READER, "Show a power device.",
              "GET", "/v1/power-devices/{name}"),
    operation("cloud_manager:power_device:create", ADMIN, "Create a power device.",
              "POST", "/v1/power-devices"),
    operation("cloud_manager:power_device:delete", ADMIN, "Delete a power device.",
              "DELETE", "/v1/power-devices/{name}"),
    operation("cloud_manager:power_device:action", ADMIN,
              "Power a device's node on or off, or read its power state.",
              "POST", "/v1/power-devices/{name}/action"),
    operation("cloud_manager:task:list", READER, "List host tasks.", "GET", "/v1/tasks"),
    operation("cloud_manager:task:show", READER, "Show a host task with per-instance progress.",
              "GET", "/v1/tasks/{task_id}"),
    operation("cloud_manager:event:list", READER, "List node events and alerts.",
              "GET", "/v1/events"),
]


def list_rules() -> list[policy.RuleDefault]:
    return RULES
