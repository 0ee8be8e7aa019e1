"""The per-MAC files in ``[pxe] conf_dir`` that the TFTP server hands to pxelinux."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from cloud_manager.provisioning.pxe_config import DEFAULT_TEMPLATE, file_name


class PxeError(Exception):
    """A PXE file or template cannot be read or written; the message names the path."""


def read_template(path: str) -> str:
    """The operator's template (``[pxe] template``), or the built-in one when unset."""
    if not path:
        return DEFAULT_TEMPLATE
    try:
        return Path(path).read_text()
    except OSError as exc:
        raise PxeError(f"[pxe] template {path}: cannot read it ({exc.strerror})") from None


def path_for(conf_dir: str, mac: str) -> Path:
    return Path(conf_dir) / file_name(mac)


def read(conf_dir: str, mac: str) -> str | None:
    """The node's file as it is now; None when there is none."""
    try:
        return path_for(conf_dir, mac).read_text()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise PxeError(f"{path_for(conf_dir, mac)}: cannot read it ({exc.strerror})") from None


def write(conf_dir: str, mac: str, text: str) -> Path:
    """Written atomically (a temporary file in the same directory, then renamed): the TFTP
    server never serves half a file. World-readable, as tftpd runs as its own user."""
    path = path_for(conf_dir, mac)
    try:
        with tempfile.NamedTemporaryFile("w", dir=path.parent, prefix=f".{path.name}.",
                                         delete=False) as tmp:
            tmp.write(text)
            tmp.flush()
            os.fsync(tmp.fileno())
        os.chmod(tmp.name, 0o644)
        os.replace(tmp.name, path)
    except OSError as exc:
        with contextlib.suppress(NameError, OSError):
            os.unlink(tmp.name)
        raise PxeError(f"[pxe] conf_dir {conf_dir}: cannot write {path.name} "
                       f"({exc.strerror})") from None
    return path
