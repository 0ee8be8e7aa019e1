"""Fixtures of the Clouds unit tests: the API app with moto and the Yandex double
in-process, an in-memory OpenStack, a migrated SQLite database."""

from __future__ import annotations

import threading

import pytest
from moto import mock_aws
from werkzeug.serving import make_server

from aos import conf as aos_conf
from aos import crypto, db
from aos.db.migrations import Migrator
from clouds.api import clouds_api
from clouds.module import MODULE
from tests.unit.clouds.doubles import yandex_double
from tests.unit.clouds.fake_openstack import FakeOpenStack

#: The bucket of image uploads to AWS in the unit tests' clouds.conf.
UPLOAD_BUCKET = "aos-images"


@pytest.fixture
def yc(tmp_path):
    with yandex_double(tmp_path / "yandex") as double:
        yield double


@pytest.fixture
def app(aos_env, yc):
    (aos_env["etc"] / "clouds.conf").write_text(
        "[api]\nauth_strategy = noauth\n"
        f"[yandex]\nendpoint = {yc['endpoint']}\nroot_certificates_file = {yc['ca_file']}\n"
        "timeout = 5\n[aws]\nmax_attempts = 1\n"
        f"[images]\naws_bucket = {UPLOAD_BUCKET}\nyandex_bucket = {UPLOAD_BUCKET}-yc\n"
        "yandex_access_key_id = gUC7Dgk2ckZJTJ-2G7fm\nyandex_secret_access_key = x\n"
        "yandex_storage_endpoint = https://s3.amazonaws.com\npoll_interval = 0.01\n")
    crypto.create_key_file(aos_env["state"] / "secret.key")
    conf = aos_conf.load(MODULE)
    engine = db.create_engine(db.database_url(conf, MODULE))
    Migrator(MODULE, engine).migrate()
    engine.dispose()
    app = clouds_api.create_app(conf)
    app.extensions["runtime"].openstack = FakeOpenStack("aws", "yandex", "other")
    with mock_aws():
        yield app


@pytest.fixture
def server(app):
    """The API served on a loopback port (for the real ``openstack`` command)."""
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}", app.extensions["runtime"]
    httpd.shutdown()
    thread.join(timeout=10)
