"""The CLI's bounded retry of reads across a dropped connection (``aos.cli.client``)."""

from __future__ import annotations

import pytest
from osc_lib import exceptions

from aos.cli.client import READ_RETRY_DELAYS, APIUnreachable, read_retrying


class _Reads:
    """Answers with the scripted outcomes in turn: an exception is raised, a value returned."""

    def __init__(self, *outcomes):
        self.outcomes = list(outcomes)
        self.calls = 0

    def __call__(self):
        self.calls += 1
        outcome = self.outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome


def test_a_read_is_sent_again_after_a_dropped_connection():
    slept: list[float] = []
    read = _Reads(APIUnreachable("reset"), APIUnreachable("refused"), {"state": "done"})
    assert read_retrying(read, sleep=slept.append) == {"state": "done"}
    assert read.calls == 3
    assert slept == list(READ_RETRY_DELAYS[:2])


def test_an_api_that_stays_down_is_one_error_after_a_bounded_wait():
    slept: list[float] = []
    read = _Reads(*[APIUnreachable("cannot reach the cloud-manager API: refused")] * 10)
    with pytest.raises(APIUnreachable, match="^cannot reach the cloud-manager API: refused$"):
        read_retrying(read, sleep=slept.append)
    assert read.calls == len(READ_RETRY_DELAYS) + 1
    assert slept == list(READ_RETRY_DELAYS)


def test_an_answer_of_the_api_is_never_retried():
    slept: list[float] = []
    read = _Reads(exceptions.CommandError("404: no task 'x'"), {"never": "read"})
    with pytest.raises(exceptions.CommandError, match="404"):
        read_retrying(read, sleep=slept.append)
    assert (read.calls, slept) == (1, [])
