"""Stdlib-only liveness checks, so `start()` can wait for real answers.

Kept free of pyghmi: the interpreter that calls `start()` need not have it.
"""

from __future__ import annotations

import socket
import urllib.request

# RMCP/IPMI 1.5 sessionless "Get Channel Authentication Capabilities" (channel 0xE =
# this channel, IPMI 2.0 bit set, privilege ADMIN). Needs no credentials.
# fmt: off
_GET_AUTH_CAP = bytes([
    0x06, 0x00, 0xFF, 0x07,              # RMCP header, class IPMI
    0x00, 0, 0, 0, 0, 0, 0, 0, 0,        # auth type none, sequence 0, session 0
    0x09,                                # message length
    0x20, 0x18, 0xC8,                    # rsAddr BMC, netFn App << 2, checksum
    0x81, 0x00, 0x38,                    # rqAddr, rqSeq/lun, cmd
    0x8E, 0x04,                          # channel 0xE + IPMI 2.0, ADMIN
    0xB5,                                # checksum
])
# fmt: on


def ipmi(address: str, port: int, timeout: float = 1.0) -> bool:
    """True if an IPMI BMC answers on UDP address:port."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(timeout)
        try:
            sock.sendto(_GET_AUTH_CAP, (address, port))
            data, _ = sock.recvfrom(512)
        except OSError:
            return False
    return data[:4] == b"\x06\x00\xff\x07"


def redfish(url: str, timeout: float = 1.0) -> bool:
    """True if a Redfish service root answers (it is anonymous by design)."""
    # No proxies: an http_proxy in the environment must not intercept loopback.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(f"{url}/redfish/v1/", timeout=timeout) as rsp:
            return rsp.status == 200
    except OSError:
        return False
