"""The options a host task runs with, read once from the configuration."""

from __future__ import annotations

from dataclasses import dataclass

from oslo_config import cfg


@dataclass(frozen=True)
class TaskSettings:
    lease_seconds: float
    poll_interval: float
    # fencing
    power_checks: int
    power_cycle_first: bool
    host_restart_timeout: float
    storage_check: bool
    storage_path: str
    storage_attempts: int
    storage_delay: float
    shutdown_interval: float
    shutdown_ticks: int
    # planning and preparing
    default_priority: int
    reserve_up_timeout: float
    # instance actions
    stage_timeout: float
    max_in_flight: int
    request_threads: int
    retries: int
    max_polls: int

    @classmethod
    def from_conf(cls, conf: cfg.ConfigOpts) -> TaskSettings:
        tasks, tracker = conf.host_tasks, conf.node_tracker
        check, power = conf.extra_availability_check, conf.power
        return cls(
            lease_seconds=tasks.task_lease_time,
            poll_interval=tasks.poll_interval,
            power_checks=tasks.retries_wait_for_node_state,
            power_cycle_first=tracker.allow_host_auto_power_off,
            host_restart_timeout=tracker.host_restart_timeout,
            storage_check=check.enabled,
            storage_path=check.storage_path,
            storage_attempts=check.attempts,
            storage_delay=check.delay,
            shutdown_interval=power.shutdown_interval,
            shutdown_ticks=power.shutdown_max_tick,
            default_priority=tasks.recovery_priority,
            reserve_up_timeout=60 * tracker.timeout_reserv_node_up,
            stage_timeout=tasks.prioritized_evacuation_timeout,
            max_in_flight=tasks.max_parallel_evacuations,
            request_threads=tasks.evacuation_request_threads,
            retries=tasks.evacuation_retries,
            max_polls=tasks.retries_wait_for_vm_status,
        )
