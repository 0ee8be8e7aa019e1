"""An instance read from the inventory says why it is not moved as one read from Nova would."""

from datetime import UTC, datetime

import pytest

from cloud_manager.execution.balancing_inventory import _stored_instance
from cloud_manager.model.inventory import InstanceRecord


@pytest.mark.parametrize(("vm_state", "reason"), [
    ("stopped", "status SHUTOFF"), ("paused", "status PAUSED"), ("error", "status ERROR")])
def test_a_stored_instance_is_not_moved_with_novas_status(vm_state, reason):
    record = InstanceRecord(id="i", name="n", host="h", state=vm_state,
                            changed_at=datetime.now(UTC), ram_mb=512)
    assert _stored_instance(record).not_movable.startswith(reason)


def test_an_active_stored_instance_is_movable():
    record = InstanceRecord(id="i", name="n", host="h", state="active",
                            changed_at=datetime.now(UTC), ram_mb=512)
    assert _stored_instance(record).not_movable == ""
