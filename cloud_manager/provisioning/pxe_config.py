"""The pxelinux per-MAC configuration file: its name and its text.

pxelinux looks for ``pxelinux.cfg/01-<mac with dashes>`` first (01: the Ethernet ARP type),
so a file of that name makes exactly one machine boot what it says.
"""

from __future__ import annotations

import re
import string

_MAC = re.compile(r"^[0-9a-f]{2}([:-]?)[0-9a-f]{2}(\1[0-9a-f]{2}){4}$")
#: What the API accepts (colons, dashes or none; either case).
MAC_PATTERN = r"^[0-9A-Fa-f]{2}([:-]?)[0-9A-Fa-f]{2}(\1[0-9A-Fa-f]{2}){4}$"

#: Installs the node: the operator's image is expected under the TFTP root's ``aos/``.
DEFAULT_TEMPLATE = """\
# Written by AOS CloudManager for $hostname ($mac): installs the node.
DEFAULT install
PROMPT 0
TIMEOUT 0
LABEL install
  KERNEL aos/vmlinuz
  APPEND initrd=aos/initrd.img hostname=$hostname BOOTIF=$pxe_name
"""

#: Written once the node's nova-compute registered: a reboot must not install it again.
LOCAL_BOOT = """\
# Written by AOS CloudManager for $hostname ($mac): installed, boots from its disk.
DEFAULT local
PROMPT 0
TIMEOUT 0
LABEL local
  LOCALBOOT 0
"""

PLACEHOLDERS = ("hostname", "mac", "mac_dashed", "pxe_name")


class TemplateError(ValueError):
    """The template names a placeholder that does not exist, or has a stray ``$``."""


def normalize_mac(text: str) -> str:
    """``aa:bb:cc:dd:ee:ff`` from any usual spelling; ValueError when it is no MAC."""
    mac = text.strip().lower()
    if not _MAC.match(mac):
        raise ValueError(f"{text!r} is not a MAC address (aa:bb:cc:dd:ee:ff)")
    digits = mac.replace(":", "").replace("-", "")
    return ":".join(digits[i:i + 2] for i in range(0, 12, 2))


def file_name(mac: str) -> str:
    """``01-aa-bb-cc-dd-ee-ff``: the name pxelinux asks the TFTP server for."""
    return "01-" + normalize_mac(mac).replace(":", "-")


def render(template: str, hostname: str, mac: str) -> str:
    """The template with ``$hostname``, ``$mac``, ``$mac_dashed`` and ``$pxe_name`` filled."""
    mac = normalize_mac(mac)
    values = {"hostname": hostname, "mac": mac, "mac_dashed": mac.replace(":", "-"),
              "pxe_name": file_name(mac)}
    try:
        return string.Template(template).substitute(values)
    except KeyError as exc:
        raise TemplateError(f"unknown placeholder ${exc.args[0]} (known: "
                            + ", ".join(f"${p}" for p in PLACEHOLDERS) + ")") from None
    except ValueError as exc:
        raise TemplateError(f"{exc} (write $$ for a literal $)") from None
