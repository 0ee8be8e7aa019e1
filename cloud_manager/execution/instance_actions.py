"""Runs a plan's instance actions stage by stage, each request recorded before it is sent.

An item is marked ``requested`` *before* Nova is asked, and a resumed task asks Nova's records
which requests went through, so a worker killed at any point resumes without sending one twice.
Requests go out ``evacuation_request_threads`` at a time, at most ``max_parallel_evacuations``
in flight; the next stage starts when this one is finished or after its timeout.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from itertools import groupby
from typing import Protocol

from cloud_manager.execution.records import Item, TaskRecords
from cloud_manager.execution.settings import TaskSettings
from cloud_manager.ha.outcome import (
    Judgement,
    after_failed_request,
    after_poll,
    judge_record,
    judge_server,
)
from cloud_manager.model.actions import ActionKind
from cloud_manager.model.task_state import ItemState
from cloud_manager.nova import Evacuation, Nova, NovaError

LOG = logging.getLogger(__name__)

# Nova stamps its records with its own clock: changes-since only keeps listings short, with
# room for a controller's clock being ahead; the task's mark tells which records are its own.
CLOCK_SKEW_MARGIN = timedelta(minutes=10)


class ActionHandler(Protocol):
    """Sends one kind of instance action and tells what became of it."""

    kind: ActionKind

    def sent(self) -> dict[str, object]:
        """What Nova has of this task's requests, per instance (one call for all)."""

    def send(self, item: Item) -> None: ...

    def judge(self, item: Item, sent: dict[str, object]) -> Judgement: ...


class Evacuations:
    """``Evacuate`` actions of one failed host: progress from Nova's evacuation records."""

    kind = ActionKind.EVACUATE

    def __init__(self, nova: Nova, host: str, task_created_at: datetime, mark: int) -> None:
        self.nova, self.host, self.mark = nova, host, mark
        self.since = task_created_at - CLOCK_SKEW_MARGIN

    def sent(self) -> dict[str, Evacuation]:
        """Latest evacuation record per instance, among those Nova created for this task."""
        return {instance_id: record for instance_id, record
                in self.nova.evacuations_from(self.host, self.since).items()
                if record.id > self.mark}

    def send(self, item: Item) -> None:
        self.nova.evacuate(item.instance_id, item.target_host)

    def judge(self, item: Item, sent: dict[str, Evacuation]) -> Judgement:
        """The record alone says when the instance is back; the server is read only when
        its evacuation failed."""
        record = sent.get(item.instance_id)
        judgement = judge_record(record.status if record else None,
                                 record.dest_host if record else None)
        if judgement is not None:
            return judgement
        server = self.nova.server(item.instance_id)
        return judge_server(record.status, server.status if server else None,
                            server.host if server else None, self.host)


class StageRunner:
    def __init__(self, records: TaskRecords, handler: ActionHandler, settings: TaskSettings,
                 monotonic: Callable[[], float], sleep: Callable[[float], None]) -> None:
        self.records, self.handler, self.settings = records, handler, settings
        self.monotonic, self.sleep = monotonic, sleep
        self.items: dict[str, Item] = {}

    def run(self, items: list[Item]) -> None:
        """Work the pending and requested ``items`` (highest priority first) to their end."""
        self.items = {item.instance_id: item for item in items}
        pending = [i for i in items if i.state in (ItemState.PENDING, ItemState.REQUESTED)]
        self._reconcile_requested(pending)
        in_flight: dict[str, int] = {}
        for priority, stage in groupby(pending, key=lambda i: i.priority):
            waiting = [item.instance_id for item in stage]
            stage_ids = list(waiting)
            LOG.info("task %s: %d instance(s) to %s, priority %d", self.records.task_id,
                     len(stage_ids), self.handler.kind, priority)
            self._send_more(waiting, in_flight)
            deadline = self.monotonic() + self.settings.stage_timeout
            # The next stage starts once this one is finished, or after the timeout -- but
            # never before all of this one's requests went out.
            while self._poll(in_flight) or waiting:
                self._send_more(waiting, in_flight)
                if not waiting and (self.monotonic() >= deadline
                                    or not any(i in in_flight for i in stage_ids)):
                    break
                self.sleep(self.settings.poll_interval)
        while self._poll(in_flight):
            self.sleep(self.settings.poll_interval)

    def _reconcile_requested(self, items: list[Item]) -> None:
        """After a restart: a ``requested`` item whose request never reached Nova is pending."""
        requested = [item for item in items if item.state == ItemState.REQUESTED]
        if not requested:
            return
        sent = self.handler.sent()
        lost = [item for item in requested if item.instance_id not in sent]
        for item in lost:
            LOG.info("instance %s: %s was never sent; sending it now", item.instance_id,
                     item.action)
        self.records.move_items((item, ItemState.PENDING, {}) for item in lost)

    def _send_more(self, waiting: list[str], in_flight: dict[str, int]) -> None:
        """Request actions from ``waiting`` up to ``max_parallel_evacuations`` in flight."""
        cap = self.settings.max_in_flight
        room = len(waiting) if cap == 0 else max(cap - len(in_flight), 0)
        batch, waiting[:] = waiting[:room], waiting[room:]
        if batch:
            self._request([self.items[i] for i in batch])
            in_flight.update(dict.fromkeys(batch, 0))

    def _request(self, items: list[Item]) -> None:
        """Mark the pending ones requested (one transaction), then send them a few at a time."""
        to_send = self.records.move_items(
            (item, ItemState.REQUESTED, {"attempts": item.attempts + 1, "message": None})
            for item in items if item.state == ItemState.PENDING)

        first_wave = set(i.instance_id for i in to_send[:self.settings.request_threads])

        def send(item: Item) -> None:
            # The transaction that marked them requested checked ownership for the first
            # wave; each later request checks again, as a takeover may have come meanwhile.
            if item.instance_id not in first_wave:
                self.records.hold()
            try:
                self.handler.send(item)
            except NovaError as exc:
                decision = after_failed_request(item.attempts, self.settings.retries, str(exc))
                self.records.move_item(item, decision.state, message=decision.message)

        with ThreadPoolExecutor(max_workers=self.settings.request_threads) as pool:
            list(pool.map(send, to_send))

    def _poll(self, in_flight: dict[str, int]) -> bool:
        """Check in-flight instances once; True while some are still moving."""
        self.records.hold()  # each poll asks Nova: only while the task is still ours
        for instance_id in list(in_flight):
            if self.items[instance_id].state in (ItemState.DONE, ItemState.FAILED):
                in_flight.pop(instance_id)
        retry = [self.items[i] for i in in_flight if self.items[i].state == ItemState.PENDING]
        if retry:
            self._request(retry)
        sent = self.handler.sent()
        moves, placed = [], {}
        for instance_id in in_flight:
            item = self.items[instance_id]
            if item.state != ItemState.REQUESTED:
                continue
            in_flight[instance_id] += 1
            judgement = self.handler.judge(item, sent)
            decision = after_poll(judgement, item.attempts, in_flight[instance_id],
                                  self.settings.retries, self.settings.max_polls)
            if decision.state is None:
                continue
            moves.append((item, decision.state, {"message": decision.message}))
            if decision.state != ItemState.DONE:
                in_flight[instance_id] = 0
            elif judgement.host:
                placed[instance_id] = judgement.host
        self.records.move_items(moves, placed)
        return bool(in_flight)
