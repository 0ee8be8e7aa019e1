"""``openstack aos balancing plan|run|export`` and ``openstack aos aggregate set-balancing``.

``plan --inventory snapshot.json`` plans offline, here, from a snapshot written by ``export``
(the planner is pure: the same code the worker runs); everything else asks the API.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from osc_lib import exceptions
from osc_lib.command import command

from cloud_manager.balancing.hosts import UnknownAggregate
from cloud_manager.balancing.report import plan_document
from cloud_manager.balancing.snapshot import SnapshotError, from_snapshot
from cloud_manager.cli import common
from cloud_manager.cli.tasks import start_task

# The spec's defaults, for offline plans ([balancing] approx; max_migrations).
DEFAULT_APPROX = 0.1
DEFAULT_MAX_MIGRATIONS = 20


class _Loads(common.JSONColumn):
    """Each host's RAM load before -> after, marked when above the line."""

    def human_readable(self) -> str:
        return "\n".join(
            f"{h['host']}: {h['load_before']:.2f}{'*' if h['loaded_before'] else ''} -> "
            f"{h['load_after']:.2f}{'*' if h['loaded_after'] else ''}" for h in self._value)


class _Migrations(common.JSONColumn):
    def human_readable(self) -> str:
        return "\n".join(f"{m['instance_name']} ({m['ram_mb']} MB): {m['source']} -> "
                         f"{m['target']}" for m in self._value)


def _show_plan(document: dict[str, Any]):
    """The dry run as one record; ``*`` marks a loaded host (above mean + approx)."""
    titles, values = common.show(document)
    columns = {"hosts": _Loads, "migrations": _Migrations}
    values = tuple(columns[field](document[field]) if field in columns else value
                   for field, value in zip(document, values, strict=True))
    return titles, values


def _read_snapshot(path: str) -> Any:
    try:
        with open(path, encoding="utf-8") as stream:
            return json.load(stream)
    except OSError as exc:
        raise exceptions.CommandError(f"cannot read {path}: {exc.strerror}") from None
    except json.JSONDecodeError as exc:
        raise exceptions.CommandError(f"{path} is not JSON: {exc}") from None


def _fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, not {text!r}") from None
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"expected 0 to 1, not {text!r}")
    return value


def _positive_int(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number above 0, not {text!r}")
    return int(text)


class BalancingPlan(command.ShowOne):
    """Dry run: the live migrations balancing would make in an aggregate, and each host's RAM
    load before and after (``*``: loaded, i.e. above the aggregate's load + approx).

    With --inventory, plan offline from a snapshot ('openstack aos balancing export').
    """

    @property
    def auth_required(self) -> bool:
        """An offline plan needs no cloud, hence no credentials (decided before parsing)."""
        return not any(arg == "--inventory" or arg.startswith("--inventory=")
                       for arg in sys.argv)

    def get_parser(self, prog_name: str) -> argparse.ArgumentParser:
        parser = super().get_parser(prog_name)
        parser.add_argument("aggregate", metavar="<aggregate>", nargs="?",
                            help="Host aggregate (default with --inventory: the snapshot's).")
        parser.add_argument("--inventory", metavar="<snapshot.json>",
                            help="Plan offline from this snapshot.")
        parser.add_argument("--approx", type=_fraction, default=DEFAULT_APPROX,
                            metavar="<fraction>",
                            help="With --inventory: [balancing] approx (default: 0.1).")
        parser.add_argument("--max-migrations", type=_positive_int,
                            default=DEFAULT_MAX_MIGRATIONS, metavar="<count>",
                            help="With --inventory: most migrations in the plan (default: 20).")
        return parser

    def take_action(self, parsed_args: argparse.Namespace):
        if parsed_args.inventory is None:
            if parsed_args.aggregate is None:
                raise exceptions.CommandError("name an aggregate, or give --inventory")
            return _show_plan(common.call(
                self.app, "GET", common.path("v1", "balancing", parsed_args.aggregate, "plan")))
        data = _read_snapshot(parsed_args.inventory)
        try:
            model = from_snapshot(data)
            aggregate = parsed_args.aggregate or data.get("aggregate")
            if not aggregate:
                raise exceptions.CommandError("the snapshot names no aggregate: name one")
            return _show_plan(plan_document(model, aggregate, parsed_args.approx,
                                            parsed_args.max_migrations))
        except (SnapshotError, UnknownAggregate) as exc:
            raise exceptions.CommandError(f"{parsed_args.inventory}: {exc}") from None


class BalancingRun(common.ShowCommand):
    """Balance a flagged aggregate now: its live migrations run one at a time as a task.

    Prints the task; with --wait, follows it with a progress bar, then prints it.
    """

    def get_parser(self, prog_name: str) -> argparse.ArgumentParser:
        parser = super().get_parser(prog_name)
        parser.add_argument("aggregate", metavar="<aggregate>", help="Host aggregate.")
        parser.add_argument("--wait", action="store_true",
                            help="Wait until the run is over, showing its progress.")
        return parser

    def record(self, parsed_args: argparse.Namespace) -> dict[str, Any]:
        return start_task(self.app, common.path("v1", "balancing", parsed_args.aggregate, "run"),
                          parsed_args.wait)


class BalancingExport(command.Command):
    """Write an aggregate's balancing inputs as JSON on stdout (for 'plan --inventory')."""

    def get_parser(self, prog_name: str) -> argparse.ArgumentParser:
        parser = super().get_parser(prog_name)
        parser.add_argument("aggregate", metavar="<aggregate>", help="Host aggregate.")
        return parser

    def take_action(self, parsed_args: argparse.Namespace) -> None:
        snapshot = common.call(self.app, "GET", common.path(
            "v1", "balancing", parsed_args.aggregate, "snapshot"))
        self.app.stdout.write(json.dumps(snapshot, indent=1) + "\n")


class AggregateSetBalancing(common.ShowCommand):
    """Flag a host aggregate for balancing (metadata balancing=yes), or remove the flag."""

    def get_parser(self, prog_name: str) -> argparse.ArgumentParser:
        parser = super().get_parser(prog_name)
        parser.add_argument("aggregate", metavar="<aggregate>", help="Host aggregate.")
        parser.add_argument("enabled", choices=("yes", "no"), help="yes or no.")
        return parser

    def record(self, parsed_args: argparse.Namespace) -> dict[str, Any]:
        return common.call(self.app, "PUT",
                           common.path("v1", "aggregates", parsed_args.aggregate, "balancing"),
                           {"enabled": parsed_args.enabled == "yes"})
