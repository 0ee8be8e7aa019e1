"""``openstack aos power-device create|list|show|delete|on|off|status``."""

from __future__ import annotations

import argparse
from typing import Any

from osc_lib import exceptions, utils
from osc_lib.command import command

from cloud_manager.cli import common
from cloud_manager.power import DRIVERS

DEVICE_FIELDS = ("name", "driver", "address", "port", "username", "hostname")


def _device_path(name: str, *rest: str) -> str:
    return common.path("v1", "power-devices", name, *rest)


def _add_name(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", metavar="<name>", help="Power device name.")


_BOOLEAN_OPTIONS = ("verify",)  # true/false; verify also takes a CA bundle path


def _option(text: str) -> tuple[str, str | bool]:
    """KEY=VALUE; boolean options are sent as JSON booleans, because a "false" string would
    be read by requests as the path of a CA bundle."""
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, not {text!r}")
    if key in _BOOLEAN_OPTIONS and value.lower() in ("true", "false"):
        return key, value.lower() == "true"
    if key in _BOOLEAN_OPTIONS and not value.startswith("/"):
        raise argparse.ArgumentTypeError(f"{key} is true, false or the absolute path of a "
                                         f"CA bundle, not {value!r}")
    return key, value


class PowerDeviceCreate(common.ShowCommand):
    """Register the power device (BMC, PDU, SSH host) that switches a compute node on and off.

    CloudManager powers a dead node off through it before evacuating (fencing). The password
    is stored encrypted and never shown again.
    """

    def get_parser(self, prog_name: str) -> argparse.ArgumentParser:
        parser = super().get_parser(prog_name)
        _add_name(parser)
        add_device_options(parser, required=True)
        parser.add_argument("--hostname", metavar="<hostname>",
                            help="Compute node this device powers (one device per node).")
        return parser

    def record(self, parsed_args: argparse.Namespace) -> dict[str, Any]:
        body = device_body(self.app, parsed_args, parsed_args.name)
        if parsed_args.hostname:
            body["hostname"] = parsed_args.hostname
        return common.call(self.app, "POST", "/v1/power-devices", body)


def add_device_options(parser: argparse.ArgumentParser, required: bool) -> None:
    """The options describing a device (``node add`` creates one with them too)."""
    parser.add_argument("--driver", required=required, choices=DRIVERS,
                        help="Protocol of the device.")
    parser.add_argument("--address", required=required, metavar="<host>",
                        help="Address of the BMC or management host.")
    parser.add_argument("--port", type=int, metavar="<port>",
                        help="Port (default: the protocol's).")
    parser.add_argument("--username", metavar="<user>", help="User on the device.")
    password = parser.add_mutually_exclusive_group()
    password.add_argument("--password", metavar="<password>",
                          help="Password on the device (visible in the process list: "
                          "prefer --password-prompt).")
    password.add_argument("--password-prompt", action="store_true",
                          help="Prompt for the password.")
    parser.add_argument("--option", dest="options", metavar="<key=value>", type=_option,
                        action="append", default=[],
                        help="Driver option, repeatable (ssh: on, off, status, cycle and "
                        "soft_off commands, host_key=SHA256:... or known_hosts=PATH; "
                        "redfish: system_id, verify=true|false|CA-BUNDLE-PATH, default "
                        "true).")


def device_body(app: Any, parsed_args: argparse.Namespace, name: str) -> dict[str, Any]:
    """The API's description of a device from ``add_device_options``' arguments."""
    password = parsed_args.password
    if parsed_args.password_prompt:
        password = utils.get_password(app.stdin)
    body: dict[str, Any] = {"name": name, "driver": parsed_args.driver,
                            "address": parsed_args.address}
    optional = {"port": parsed_args.port, "username": parsed_args.username,
                "password": password, "options": dict(parsed_args.options) or None}
    body.update({key: value for key, value in optional.items() if value is not None})
    return body


class PowerDeviceList(common.ListCommand):
    """List power devices and the nodes they power (passwords are never shown)."""

    fields = DEVICE_FIELDS

    def records(self, parsed_args: argparse.Namespace) -> list[dict[str, Any]]:
        return common.call(self.app, "GET", "/v1/power-devices")


class PowerDeviceShow(common.ShowCommand):
    """Show a power device (its password shows as *** when one is set)."""

    def get_parser(self, prog_name: str) -> argparse.ArgumentParser:
        parser = super().get_parser(prog_name)
        _add_name(parser)
        return parser

    def record(self, parsed_args: argparse.Namespace) -> dict[str, Any]:
        return common.call(self.app, "GET", _device_path(parsed_args.name))


class PowerDeviceDelete(command.Command):
    """Delete power devices; their nodes can then no longer be fenced automatically."""

    def get_parser(self, prog_name: str) -> argparse.ArgumentParser:
        parser = super().get_parser(prog_name)
        parser.add_argument("names", metavar="<name>", nargs="+",
                            help="Power device(s) to delete.")
        return parser

    def take_action(self, parsed_args: argparse.Namespace) -> None:
        failures = []
        for name in parsed_args.names:
            try:
                common.call(self.app, "DELETE", _device_path(name))
            except exceptions.CommandError as exc:
                failures.append(str(exc))
        if failures:
            raise exceptions.CommandError("; ".join(failures))


class _PowerAction(common.ShowCommand):
    """Sends one action to a device and prints the power state it reports afterwards."""

    action = ""

    def get_parser(self, prog_name: str) -> argparse.ArgumentParser:
        parser = super().get_parser(prog_name)
        _add_name(parser)
        return parser

    def record(self, parsed_args: argparse.Namespace) -> dict[str, Any]:
        return common.call(self.app, "POST", _device_path(parsed_args.name, "action"),
                           {"action": self.action})


class PowerDeviceOn(_PowerAction):
    """Power the device's node on; prints the power state the device then reports."""

    action = "on"


class PowerDeviceOff(_PowerAction):
    """Hard power-off of the device's node (no OS shutdown); prints the power state after."""

    action = "off"


class PowerDeviceStatus(_PowerAction):
    """Read the power state (on or off) of the device's node."""

    action = "status"
