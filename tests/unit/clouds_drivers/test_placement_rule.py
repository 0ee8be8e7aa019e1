"""CloudProjectFilter's rule over plain data."""

from __future__ import annotations

import pytest

from clouds_drivers.nova.scheduler import placement_rule


@pytest.mark.parametrize(("hypervisor", "project", "fits"), [
    ("aws", "aws", True),
    ("aws", None, False),
    ("aws", "yandex", False),
    ("yandex", "yandex", True),
    ("fake", None, True),
    ("QEMU", None, True),
    ("fake", "aws", False),
    (None, None, True),
])
def test_cloud_projects_only_on_their_cloud_and_others_never_there(hypervisor, project, fits):
    assert placement_rule.host_fits(placement_rule.host_cloud(hypervisor), project) is fits


def test_cloud_manager_knows_the_traits_the_drivers_report():
    from cloud_manager import nova

    assert {f"CUSTOM_CLOUD_{c.upper()}" for c in placement_rule.CLOUD_HYPERVISORS} == \
        set(nova.CLOUD_TRAITS)
