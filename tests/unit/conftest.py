"""Fixtures over an API module's Flask ``app`` (each package's tests define ``app``)."""

import pytest


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runtime(app):
    return app.extensions["runtime"]
