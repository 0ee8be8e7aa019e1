"""Leadership is asked from several threads of one beat (tracker, node_sync, balancing)."""

import threading
import time

from aos import conf as aos_conf
from aos import modules
from aos.coordination import Leadership


def test_threads_asking_at_once_use_the_lock_one_at_a_time(aos_env):
    """tooz's MySQL lock lives on one pymysql connection, which two threads must not use at
    once (the beat crashed with "Packet sequence number wrong" on the sandbox)."""
    leadership = Leadership(aos_conf.load(modules.get("cloud_manager")), "test-lock", "me")
    inside, most = [0], [0]
    guard = threading.Lock()

    def held() -> bool:  # stands in for the backend round trip
        with guard:
            inside[0] += 1
            most[0] = max(most[0], inside[0])
        time.sleep(0.01)
        with guard:
            inside[0] -= 1
        return True

    leadership._still_held = held  # noqa: SLF001
    try:
        assert leadership.is_leader()
        threads = [threading.Thread(target=lambda: [leadership.is_leader() for _ in range(10)])
                   for _ in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        leadership.stop()
    assert most[0] == 1
