"""Pieces shared by the module management commands (configure, db)."""

from __future__ import annotations

import argparse

from osc_lib import exceptions
from oslo_config import cfg

from aos import conf as aos_conf
from aos import modules


def add_module_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-n",
        "--name",
        dest="module",
        metavar="MODULE",
        required=True,
        help=f"AOS module: one of {', '.join(modules.names())}.",
    )


def load_module(name: str) -> tuple[modules.Module, cfg.ConfigOpts]:
    """The module and its configuration, or a CommandError that says what is wrong."""
    try:
        module = modules.get(name)
        return module, aos_conf.load(module)
    except (modules.UnknownModule, aos_conf.ConfigError) as exc:
        raise exceptions.CommandError(str(exc.args[0] if exc.args else exc)) from exc
