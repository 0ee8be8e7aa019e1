"""Fixtures shared by the clouds drivers' tests."""

from __future__ import annotations

import pytest

from clouds_drivers.providers import yandex
from clouds_drivers.providers.base import Account
from tests.unit.clouds.doubles import yandex_double


@pytest.fixture
def yc(tmp_path):
    with yandex_double(tmp_path) as double:
        provider = yandex.YandexProvider(yandex.Settings(
            endpoint=double["endpoint"], root_certificates=double["root_certificates"],
            timeout=5))
        account = Account("yandex", double["zone"], None,
                          {k: double[k] for k in ("service_account_id", "key_id",
                                                  "private_key")},
                          {"folder_id": double["folder_id"]})
        yield provider, account, double
