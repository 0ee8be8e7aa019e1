import pytest
from oslo_config import cfg

from clouds_drivers import service_conf


def _conf(**yandex):
    conf = cfg.ConfigOpts()
    service_conf.register_opts(conf)
    service_conf.register_opts(conf)  # every driver of one process registers them
    conf([], project="test")
    for name, value in yandex.items():
        conf.set_override(name, value, group="yandex")
    return conf


def test_unreadable_root_certificates_name_the_option(tmp_path):
    conf = _conf(root_certificates_file=str(tmp_path / "missing.pem"))
    with pytest.raises(cfg.Error, match=r"\[yandex\] root_certificates_file: cannot read"):
        service_conf.yandex_provider(conf)


def test_providers_take_the_configured_endpoints(tmp_path):
    pem = tmp_path / "ca.pem"
    pem.write_bytes(b"PEM")
    conf = _conf(endpoint="127.0.0.1:1", root_certificates_file=str(pem), timeout=2.5)
    conf.set_override("endpoint_url", "http://127.0.0.1:2", group="aws")
    provider = service_conf.yandex_provider(conf)
    assert (provider.settings.endpoint, provider.settings.root_certificates,
            provider.settings.timeout) == ("127.0.0.1:1", b"PEM", 2.5)
    assert service_conf.aws_provider(conf).settings.endpoint_url == "http://127.0.0.1:2"
