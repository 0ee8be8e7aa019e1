import os

import pytest

from aos import conf as aos_conf
from aos import modules

# (section, option, default) as the CloudManager documentation lists them.
CLOUD_MANAGER_SPEC = [
    ("DEFAULT", "dhcp_leases",
     ["/var/lib/dhcp/dhcpd/state/dhcpd.leases", "/var/lib/dhcp/dhcpd.leases"]),
    ("agent", "agent_confirm_timeout", 10), ("agent", "agent_response_timeout", 60),
    ("agent", "backoff_factor", 0.3), ("agent", "enabled", False), ("agent", "logfile", ""),
    ("api", "audit_enabled", True), ("api", "host", "0.0.0.0"), ("api", "logfile", ""),
    ("api", "port", 9362),
    ("balancing", "approx", 0.1), ("balancing", "enabled", False),
    ("balancing", "migration_retries", 3), ("balancing", "periodic_time", 24),
    ("drs", "host", None), ("drs", "password", None), ("drs", "port", 80),
    ("drs", "username", None),
    ("drs_trigger", "enabled", True), ("drs_trigger", "logfile", ""),
    ("drs_trigger", "trigger_interval", 600),
    ("extra_availability_check", "attempts", 2), ("extra_availability_check", "delay", 60),
    ("extra_availability_check", "enabled", False),
    ("extra_availability_check", "instance_rate", 100),
    ("host_tasks", "allow_evacuate_host", True), ("host_tasks", "deny_evacuate", []),
    ("host_tasks", "evacuation_retries", 2),
    ("host_tasks", "prioritized_evacuation_timeout", 60),
    ("host_tasks", "recovery_priority", 5), ("host_tasks", "retries_wait_for_node_state", 240),
    ("host_tasks", "retries_wait_for_vm_status", 60),
    ("listener", "logfile", ""), ("listener", "nova_rabbit_vhost", "/"),
    ("node_sync", "enabled", True), ("node_sync", "logfile", ""),
    ("node_sync", "reserve_interval", 60), ("node_sync", "sync_interval", 60),
    ("node_tracker", "allow_host_auto_power_off", False), ("node_tracker", "enabled", True),
    ("node_tracker", "host_restart_timeout", 600), ("node_tracker", "logfile", ""),
    ("node_tracker", "loop_time", 30), ("node_tracker", "max_down_hosts", 0),
    ("node_tracker", "mutex", 3), ("node_tracker", "mutex_up", 1),
    ("node_tracker", "timeout_reserv_node_up", 15),
    ("nova_database", "url", ""),
    ("power", "shutdown_interval", 30), ("power", "shutdown_max_tick", 10),
    ("pxe", "conf_dir", "/var/lib/tftpboot/pxelinux.cfg/"),
    ("storage_sync", "enabled", True), ("storage_sync", "logfile", ""),
    ("storage_sync", "sync_interval", 60),
]
CLOUDS_SPEC = [("api", "logfile", ""), ("api", "port", 9366)]


def _value(conf, section, name):
    return conf[name] if section == "DEFAULT" else conf[section][name]


@pytest.mark.parametrize(("module", "table"), [("cloud_manager", CLOUD_MANAGER_SPEC),
                                              ("clouds", CLOUDS_SPEC)])
def test_every_documented_option_has_its_documented_default(aos_env, module, table):
    conf = aos_conf.load(modules.get(module))
    for section, name, default in table:
        assert _value(conf, section, name) == default, f"[{section}] {name}"


def test_sample_default_of_database_url_is_the_documented_mysql_url():
    opts = dict(modules.get("cloud_manager").list_opts())["database"]
    (url,) = [o for o in opts if o.name == "url"]
    assert url.sample_default == (
        "mysql+pymysql://aos:password@localhost:3306/cloud_manager?charset=utf8mb4"
    )


def test_module_file_overrides_aos_conf(aos_env):
    (aos_env["etc"] / "aos.conf").write_text(
        "[node_tracker]\nloop_time = 7\nmutex = 5\n[DEFAULT]\ndebug = true\n"
    )
    (aos_env["etc"] / "cloud_manager.conf").write_text("[node_tracker]\nloop_time = 2\n")
    conf = aos_conf.load(modules.get("cloud_manager"))
    assert conf.node_tracker.loop_time == 2
    assert conf.node_tracker.mutex == 5
    assert conf.debug is True


def test_config_dir_defaults_to_etc_aos(monkeypatch):
    monkeypatch.delenv("AOS_CONFIG_DIR", raising=False)
    assert str(aos_conf.config_dir()) == "/etc/aos"


def test_bad_value_names_option_and_file(aos_env):
    path = aos_env["etc"] / "cloud_manager.conf"
    path.write_text("[node_tracker]\nmutex = many\n")
    with pytest.raises(aos_conf.ConfigError) as err:
        aos_conf.load(modules.get("cloud_manager"))
    assert str(err.value).startswith(f"invalid value for [node_tracker] mutex in {path}:")


def test_negative_max_down_hosts_is_refused(aos_env):
    (aos_env["etc"] / "cloud_manager.conf").write_text("[node_tracker]\nmax_down_hosts = -1\n")
    with pytest.raises(aos_conf.ConfigError, match=r"\[node_tracker\] max_down_hosts"):
        aos_conf.load(modules.get("cloud_manager"))


def test_unparsable_file_is_named(aos_env):
    path = aos_env["etc"] / "cloud_manager.conf"
    path.write_text("[node_tracker\nmutex = 1\n")
    with pytest.raises(aos_conf.ConfigError, match=f"cannot parse config file {path}"):
        aos_conf.load(modules.get("cloud_manager"))


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_unreadable_file_is_named(aos_env):
    path = aos_env["etc"] / "cloud_manager.conf"
    path.write_text("")
    path.chmod(0)
    with pytest.raises(aos_conf.ConfigError, match="permission denied"):
        aos_conf.load(modules.get("cloud_manager"))


def test_unknown_module_lists_known_ones():
    with pytest.raises(modules.UnknownModule, match="known modules: cloud_manager, clouds"):
        modules.get("nova")


def test_config_path_that_is_not_a_file_is_named(aos_env):
    path = aos_env["etc"] / "cloud_manager.conf"
    path.mkdir()
    with pytest.raises(aos_conf.ConfigError, match=f"cannot read config file {path}"):
        aos_conf.load(modules.get("cloud_manager"))
