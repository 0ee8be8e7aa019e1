"""``openstack aos drs plans|apply``: Watcher's recommended action plans and their manual
apply, through the CloudManager API (which talks to Watcher)."""

from __future__ import annotations

import argparse
from typing import Any

from cloud_manager.cli import common
from cloud_manager.cli.tasks import start_task

PLAN_FIELDS = ("uuid", "audit_state", "strategy", "applicable", "task", "migrations",
               "refused")


class _Migrations(common.JSONColumn):
    def human_readable(self) -> str:
        return "\n".join(f"{m['instance_name']}: {m['source']} -> {m['target']}"
                         for m in self._value)


class _Lines(common.JSONColumn):
    def human_readable(self) -> str:
        return "\n".join(self._value)


class _Task(common.JSONColumn):
    def human_readable(self) -> str:
        return f"{self._value['id']} ({self._value['state']})" if self._value else ""


class DrsPlans(common.ListCommand):
    """List Watcher's RECOMMENDED action plans and what AOS would do of each: the live
    migrations it runs, what it refuses (cold migrations, resizes, other actions) and the
    task that already took the plan."""

    fields = PLAN_FIELDS

    def records(self, parsed_args: argparse.Namespace) -> list[dict[str, Any]]:
        found = common.call(self.app, "GET", "/v1/drs/plans")["action_plans"]
        return [{**plan, "migrations": _Migrations(plan["migrations"]),
                 "refused": _Lines(plan["refused"]), "task": _Task(plan["task"])}
                for plan in found]


class DrsApply(common.ShowCommand):
    """Apply a RECOMMENDED Watcher action plan now: its live migrations run one at a time as
    a task, behind the same guards as balancing; the plan is cancelled in Watcher so its own
    applier does not run it too. A plan is applied once.

    Prints the task; with --wait, follows it with a progress bar, then prints it.
    """

    def get_parser(self, prog_name: str) -> argparse.ArgumentParser:
        parser = super().get_parser(prog_name)
        parser.add_argument("plan", metavar="<action-plan>", help="Watcher action plan UUID.")
        parser.add_argument("--wait", action="store_true",
                            help="Wait until the task is over, showing its progress.")
        return parser

    def record(self, parsed_args: argparse.Namespace) -> dict[str, Any]:
        return start_task(self.app, common.path("v1", "drs", "plans", parsed_args.plan, "apply"),
                          parsed_args.wait)
