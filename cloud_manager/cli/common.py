"""What every CloudManager command shares: the API call, and turning JSON into cliff output."""

from __future__ import annotations

import argparse
from typing import Any

from aos.cli import records
from aos.cli.records import (  # noqa: F401 - the commands use them through this module
    JSONColumn,
    ListCommand,
    ShowCommand,
    path,
    rows,
    show,
    title,
)

SERVICE_TYPE = "cloud-manager"


def call(app: Any, method: str, api_path: str, body: dict | None = None,
         params: dict[str, Any] | None = None) -> Any:
    """One CloudManager API request; API errors arrive as a one-line CommandError."""
    return records.call(app, SERVICE_TYPE, method, api_path, body, params)


def add_switch(parser: argparse.ArgumentParser, on_help: str, off_help: str) -> None:
    """A required ``--on`` / ``--off`` pair stored as ``parsed_args.on``."""
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--on", dest="on", action="store_true", default=None, help=on_help)
    group.add_argument("--off", dest="on", action="store_false", help=off_help)


def add_reason(parser: argparse.ArgumentParser, recorded_in: str = "the node's events") -> None:
    parser.add_argument("--reason", metavar="<text>",
                        help=f"Why; recorded in {recorded_in} with your user id.")
