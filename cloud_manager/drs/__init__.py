"""DRS through OpenStack Watcher: pure decisions over Watcher's action plans.

``action_plan`` holds Watcher's action plans as plain data, which of them AOS takes, and how
one becomes a ``Plan`` of ``LiveMigrate``s for the executor (only live migrations: AOS runs
them behind the same guards as balancing).
"""
