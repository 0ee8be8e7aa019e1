"""Default policy rules of the Clouds API; override them in policy.yaml."""

from oslo_policy import policy

from aos.api.policy import base_rules

RULES: list[policy.RuleDefault] = [*base_rules()]


def list_rules() -> list[policy.RuleDefault]:
    return RULES
