"""python-openstackclient plugin: adds the ``openstack aos …`` commands."""

from __future__ import annotations

import argparse
import os
from typing import Any

API_NAME = "aos"
API_VERSION_OPTION = "os_aos_api_version"
API_VERSIONS = {"1": "aos.cli.client.AOSClient"}
DEFAULT_API_VERSION = "1"


# Service types whose endpoint a global option (or clouds.yaml key) can override.
ENDPOINT_OPTIONS = {"cloud-manager": "cloud_manager_url", "clouds": "clouds_url"}


def make_client(instance: Any) -> Any:
    from aos.cli.client import AOSClient

    return AOSClient(instance.session, region_name=instance.region_name,
                     interface=instance.interface,
                     endpoint_override=endpoint_overrides(instance.get_configuration()))


def endpoint_overrides(config: dict[str, Any]) -> dict[str, str]:
    """``--os-cloud-manager-url`` (or ``cloud_manager_endpoint_override`` in clouds.yaml)."""
    overrides = {}
    for service_type, option in ENDPOINT_OPTIONS.items():
        clouds_yaml_key = f"{service_type.replace('-', '_')}_endpoint_override"
        url = config.get(option) or config.get(clouds_yaml_key)
        if url:
            overrides[service_type] = url
    return overrides


def build_option_parser(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    parser.add_argument(
        "--os-aos-api-version",
        metavar="<aos-api-version>",
        default=DEFAULT_API_VERSION,
        help="AOS API version (default: 1)",
    )
    parser.add_argument(
        "--os-cloud-manager-url",
        metavar="<url>",
        default=os.environ.get("OS_CLOUD_MANAGER_URL"),
        help="CloudManager API endpoint, e.g. http://controller:9362, used instead of the "
        "service catalog (env OS_CLOUD_MANAGER_URL)",
    )
    parser.add_argument(
        "--os-clouds-url",
        metavar="<url>",
        default=os.environ.get("OS_CLOUDS_URL"),
        help="Clouds API endpoint, e.g. http://controller:9366, used instead of the service "
        "catalog (env OS_CLOUDS_URL)",
    )
    return parser
