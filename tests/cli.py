"""Run the real ``openstack`` command as an operator would.

In process by default: the same ``openstackclient.shell.main`` the console script calls, with
its own environment, stdin, stdout and stderr, but without paying OSC's plugin scan (several
seconds) on every call. ``in_process=False`` runs the installed console script itself.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from unittest import mock

from tests.conftest import venv_bin


@dataclass
class Result:
    code: int
    out: str
    err: str

    def json(self):
        return json.loads(self.out)


def openstack(*args: str, env: dict[str, str] | None = None, in_process: bool = True) -> Result:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("OS_")}
    environment.update(env or {})
    if not in_process:
        proc = subprocess.run([venv_bin("openstack"), *args], capture_output=True, text=True,
                              env=environment, timeout=120, stdin=subprocess.DEVNULL)
        return Result(proc.returncode, proc.stdout, proc.stderr)
    from openstackclient import shell

    _forget_plugin_clients()
    out, err = io.StringIO(), io.StringIO()
    here = threading.current_thread()
    with _environment(environment), _logging_restored(), \
            contextlib.redirect_stdout(_ThreadStream(out, sys.stdout, here)), \
            contextlib.redirect_stderr(_ThreadStream(err, sys.stderr, here)), \
            mock.patch.object(sys, "stdin", io.StringIO()), \
            mock.patch.object(sys, "argv", ["openstack", *args]):
        try:
            code = shell.main(list(args))
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
    return Result(code, out.getvalue(), err.getvalue())


class _ThreadStream(io.TextIOBase):
    """The command's output for its own thread; an API server thread in the same test
    process keeps writing where it did, so its log lines never look like the command's."""

    def __init__(self, mine: io.StringIO, others: Any, thread: threading.Thread) -> None:
        self.mine, self.others, self.thread = mine, others, thread

    def _target(self) -> Any:
        return self.mine if threading.current_thread() is self.thread else self.others

    def write(self, text: str) -> int:
        return self._target().write(text)

    def flush(self) -> None:
        self._target().flush()

    def isatty(self) -> bool:
        return False


def _forget_plugin_clients() -> None:
    """OSC caches each plugin's client on the ClientManager class, i.e. per process."""
    from osc_lib import clientmanager

    for attribute in vars(clientmanager.ClientManager).values():
        if isinstance(attribute, clientmanager.ClientCache):
            attribute._handle = None


@contextlib.contextmanager
def _environment(environment: dict[str, str]) -> Iterator[None]:
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(environment)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


@contextlib.contextmanager
def _logging_restored() -> Iterator[None]:
    """OSC configures the root logger and a few others on every run; undo it afterwards."""
    root = logging.getLogger()
    loggers = [root, *(logger for logger in logging.Logger.manager.loggerDict.values()
                       if isinstance(logger, logging.Logger))]
    saved = [(logger, logger.level, list(logger.handlers), logger.propagate) for logger in loggers]
    try:
        yield
    finally:
        for logger, level, handlers, propagate in saved:
            logger.setLevel(level)
            logger.handlers[:] = handlers
            logger.propagate = propagate
        for logger in logging.Logger.manager.loggerDict.values():
            if isinstance(logger, logging.Logger) and logger not in {s[0] for s in saved}:
                logger.handlers.clear()


def migrations(module: str, env: dict[str, str] | None = None) -> list[dict]:
    result = openstack("aos", "db", "list", "-n", module, "-f", "json", env=env)
    assert result.code == 0, result.err
    return result.json()


def current(module: str, env: dict[str, str] | None = None) -> int:
    return max((m["Migration"] for m in migrations(module, env) if m["Current"]), default=0)
