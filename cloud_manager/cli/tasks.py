"""``openstack aos task list|show [--wait]``."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from typing import Any

from osc_lib import exceptions
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from aos.cli.client import read_retrying
from cloud_manager.cli import common
from cloud_manager.model.task_state import FINAL_TASK_STATES, TaskState

TASK_FIELDS = ("id", "hostname", "kind", "state", "strategy", "created_at", "finished_at")


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, not {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected more than 0 seconds, not {text!r}")
    return value


class TaskList(common.ListCommand):
    """List host tasks (evacuations), newest first."""

    fields = TASK_FIELDS

    def get_parser(self, prog_name: str) -> argparse.ArgumentParser:
        parser = super().get_parser(prog_name)
        parser.add_argument("--hostname", metavar="<hostname>", help="Only tasks of this node.")
        parser.add_argument("--state", metavar="<state>", choices=[s.value for s in TaskState],
                            help="Only tasks in this state ("
                            + ", ".join(s.value for s in TaskState) + ").")
        return parser

    def records(self, parsed_args: argparse.Namespace) -> list[dict[str, Any]]:
        return common.call(self.app, "GET", "/v1/tasks",
                           params={"hostname": parsed_args.hostname, "state": parsed_args.state})


class TaskShow(common.ShowCommand):
    """Show a host task with each instance's target, state and attempts, and its progress.

    With --wait, follow the task until it is done, partial, failed or aborted, drawing a
    progress bar of finished instances on stderr, then print it.
    """

    def get_parser(self, prog_name: str) -> argparse.ArgumentParser:
        parser = super().get_parser(prog_name)
        parser.add_argument("task_id", metavar="<task-id>", help="Task ID.")
        add_wait_options(parser)
        return parser

    def record(self, parsed_args: argparse.Namespace) -> dict[str, Any]:
        fetch = task_reader(self.app, parsed_args.task_id)
        if not parsed_args.wait:
            return fetch()
        return wait_for_task(fetch, parsed_args.poll_interval, parsed_args.timeout)


def add_wait_options(parser: argparse.ArgumentParser) -> None:
    """--wait, --poll-interval and --timeout of every command that can follow a task."""
    parser.add_argument("--wait", action="store_true",
                        help="Wait until the task is final, showing its progress.")
    parser.add_argument("--poll-interval", type=_positive, default=2.0, metavar="<seconds>",
                        help="Seconds between two polls with --wait (default: 2).")
    parser.add_argument("--timeout", type=_positive, metavar="<seconds>",
                        help="Give up waiting after this many seconds (default: never).")


def task_reader(app: Any, task_id: str) -> Callable[[], dict[str, Any]]:
    path = common.path("v1", "tasks", task_id)
    return lambda: common.call(app, "GET", path)


def start_task(app: Any, api_path: str, wait: bool) -> dict[str, Any]:
    """POST what starts a task; the task as accepted, or with ``wait`` as it ended."""
    task = common.call(app, "POST", api_path, {})
    if not wait:
        return task
    return wait_for_task(task_reader(app, task["id"]), 2.0, None)


def wait_for_task(fetch: Callable[[], dict[str, Any]], interval: float,
                  timeout: float | None,
                  sleep: Callable[[float], None] = time.sleep) -> dict[str, Any]:
    """Poll until the task is final, with a finished/total bar on stderr; the final task.

    Each poll is a GET sent again after a dropped connection (``read_retrying``): a long wait
    survives a keep-alive race or an API restart, and an API that stays down ends it in one line.
    """
    deadline = None if timeout is None else time.monotonic() + timeout
    task = read_retrying(fetch, sleep=sleep)
    console = Console(file=sys.stderr)
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=console, transient=False) as progress:
        bar = progress.add_task(_describe(task), total=task.get("total") or None)
        while True:
            progress.update(bar, description=_describe(task), total=task.get("total") or None,
                            completed=task.get("finished", 0))
            if task["state"] in FINAL_TASK_STATES:
                return task
            if deadline is not None and time.monotonic() >= deadline:
                raise exceptions.CommandError(
                    f"task {task['id']} is still {task['state']} after {timeout:g} s "
                    f"({task.get('finished', 0)}/{task.get('total', 0)} instances finished)")
            sleep(interval)
            task = read_retrying(fetch, sleep=sleep)


def _describe(task: dict[str, Any]) -> str:
    """Host and state; for a task without instances (provisioning) also its last step."""
    text = f"{task.get('hostname', '')} {task['state']}"
    if not task.get("total") and task.get("message"):
        text += f": {task['message']}"
    return text
