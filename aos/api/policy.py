"""Policy defaults shared by the module APIs."""

from oslo_policy import policy

ADMIN = "role:admin"
READER = "role:admin or (role:reader and system_scope:all)"


def base_rules() -> list[policy.RuleDefault]:
    return [
        policy.RuleDefault("admin_api", ADMIN, "Management calls: admin only by default."),
        policy.RuleDefault("reader_api", READER, "Reads: admin or system reader."),
    ]


def operation(name: str, check: str, description: str, method: str, path: str
              ) -> policy.DocumentedRuleDefault:
    return policy.DocumentedRuleDefault(
        name, check, description, [{"method": method, "path": path}]
    )
