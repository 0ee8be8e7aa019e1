"""Fixtures over an API module's Flask ``app`` (each package's tests define ``app``), and
the Hypothesis profile of the property tests."""

import pytest
from hypothesis import HealthCheck, settings

# The property tests check decisions, not speed: on a loaded machine (CI brings the sandbox up
# while the unit tests run) generating inputs is slow and each example may take long.
settings.register_profile("aos", suppress_health_check=[HealthCheck.too_slow], deadline=None)
settings.load_profile("aos")


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runtime(app):
    return app.extensions["runtime"]
