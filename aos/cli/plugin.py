"""python-openstackclient plugin: adds the ``openstack aos …`` commands."""

from __future__ import annotations

import argparse
from typing import Any

API_NAME = "aos"
API_VERSION_OPTION = "os_aos_api_version"
API_VERSIONS = {"1": "aos.cli.client.AOSClient"}
DEFAULT_API_VERSION = "1"


def make_client(instance: Any) -> Any:
    from aos.cli.client import AOSClient

    return AOSClient(instance.session, region_name=instance.region_name,
                     interface=instance.interface)


def build_option_parser(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    parser.add_argument(
        "--os-aos-api-version",
        metavar="<aos-api-version>",
        default=DEFAULT_API_VERSION,
        help="AOS API version (default: 1)",
    )
    return parser
