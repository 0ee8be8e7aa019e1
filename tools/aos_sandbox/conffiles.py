"""The OpenStack configuration files of the sandbox, rendered from Settings.

Rewritten on every `up`: they depend only on the settings and the persisted secrets, so
rewriting is idempotent and a changed port takes effect after a restart.
"""

from __future__ import annotations

from pathlib import Path

from .config import HOST, REGION, Settings

Sections = dict[str, dict[str, object]]


def _ini(sections: Sections) -> str:
    out = []
    for name, options in sections.items():
        out.append(f"[{name}]")
        for k, v in options.items():
            # A list is a multi-valued option written once per value (available_filters).
            out.extend(f"{k} = {item}" for item in (v if isinstance(v, list) else [v]))
        out.append("")
    return "\n".join(out)


def _write(path: Path, sections: Sections) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(_ini(sections))
    return path


def service_auth(s: Settings, user: str) -> dict[str, object]:
    """keystoneauth password options for service user `user` in project service."""
    return {
        "auth_url": s.auth_url,
        "auth_type": "password",
        "project_domain_name": "Default",
        "user_domain_name": "Default",
        "project_name": "service",
        "username": user,
        "password": s.secrets["service"],
        "region_name": REGION,
    }


def service_client(s: Settings, user: str) -> dict[str, object]:
    """Options for a keystoneauth adapter section ([placement], [neutron], ...).

    Retries a failed connect: gunicorn closes idle keep-alive connections, and a request sent
    on one just as it closes gets "connection reset" -- Nova turns that into NoValidHost.
    """
    return {**service_auth(s, user), "connect_retries": 3, "connect_retry_delay": 0.2}


def _authtoken(s: Settings, user: str) -> dict[str, object]:
    return {
        "www_authenticate_uri": s.auth_url,
        **service_auth(s, user),
        "service_token_roles_required": True,
    }


def _common(s: Settings) -> dict[str, object]:
    return {"debug": False, "use_stderr": True, "transport_url": s.transport_url}


def keystone(s: Settings) -> Path:
    k = s.state / "keystone"
    return _write(
        s.etc / "keystone" / "keystone.conf",
        {
            "DEFAULT": {"use_stderr": True},
            "database": {"connection": s.db_url("keystone")},
            "token": {"provider": "fernet"},
            "fernet_tokens": {"key_repository": k / "fernet-keys"},
            "fernet_receipts": {"key_repository": k / "fernet-keys"},
            "credential": {"key_repository": k / "credential-keys"},
            # Without a cache every authenticated request costs ~200 SQL queries (~0.4 s);
            # one gunicorn worker means one process, so an in-memory cache stays coherent.
            "cache": {"enabled": True, "backend": "dogpile.cache.memory"},
            # Minimum bcrypt cost: every password check otherwise burns ~0.3 s of CPU.
            "identity": {"password_hash_rounds": 4},
        },
    )


def placement(s: Settings) -> Path:
    return _write(
        s.etc / "placement" / "placement.conf",
        {
            "DEFAULT": {"use_stderr": True},
            "placement_database": {"connection": s.db_url("placement")},
            "api": {"auth_strategy": "keystone"},
            "keystone_authtoken": _authtoken(s, "placement"),
        },
    )


def glance(s: Settings) -> Path:
    """Glance with spec 000's stores: ``file_store`` the default, ``aws_store`` and
    ``yandex_store`` (clouds-drivers) with the spec's options; their buckets live in the AWS
    double, which serves Yandex Object Storage too (both speak S3)."""
    from .doubles.aws import AWS_BUCKET, YANDEX_BUCKET, YANDEX_STORAGE_KEY
    from .doubles.processes import AWS, YANDEX
    from .doubles.ycloud import config as yc

    g = s.state / "glance"
    for sub in ("images", "staging", "tasks"):
        (g / sub).mkdir(parents=True, exist_ok=True)
    paste = s.venv / "etc" / "glance" / "glance-api-paste.ini"
    conf_dir = s.etc / "glance"
    conf_dir.mkdir(parents=True, exist_ok=True)
    (conf_dir / "glance-api-paste.ini").write_text(paste.read_text())
    return _write(
        conf_dir / "glance-api.conf",
        {
            "DEFAULT": {
                "use_stderr": True,
                "enabled_backends": "file_store:file, http_store:http, aws_store:aws, "
                                    "yandex_store:yandex",
                "show_multiple_locations": "true",
                "image_cache_dir": g / "cache",
            },
            "database": {"connection": s.db_url("glance")},
            "glance_store": {"default_backend": "file_store"},
            "file_store": {"filesystem_store_datadir": g / "images"},
            "aws_store": {"store_description": '"AWS images store"',
                          "bucket": f'"{AWS_BUCKET}"'},
            "yandex_store": {"store_description": '"Yandex images store"',
                             "bucket": f'"{YANDEX_BUCKET}"',
                             "region_name": "ru-central1",
                             "access_key_id": YANDEX_STORAGE_KEY[0],
                             "secret_access_key": YANDEX_STORAGE_KEY[1],
                             "endpoint": AWS.url(AWS.port())},
            "os_glance_staging_store": {"filesystem_store_datadir": g / "staging"},
            "os_glance_tasks_store": {"filesystem_store_datadir": g / "tasks"},
            "keystone_authtoken": _authtoken(s, "glance"),
            "paste_deploy": {"flavor": "keystone"},
            "oslo_concurrency": {"lock_path": g / "locks"},
            # The Clouds API (short-lived credentials) and the doubles, for the cloud stores.
            "clouds": {**service_client(s, "glance"), "valid_interfaces": "internal,public",
                       "timeout": 10},
            "aws": {"endpoint_url": AWS.url(AWS.port()), "max_attempts": 2},
            "yandex": {"endpoint": YANDEX.url(YANDEX.port()),
                       "root_certificates_file": yc.ca_file(s.state), "timeout": 10},
        },
    )


def neutron(s: Settings) -> list[Path]:
    """Neutron as spec 000 configures it for clouds: ``aws`` first among the mechanism
    drivers (the sandbox's binder after it), ``aws_router`` for routers, ``subnet_az``; the
    same names serve Yandex-bound projects, so ``[yandex]`` points at the Yandex double."""
    from .doubles.processes import AWS, YANDEX
    from .doubles.ycloud import config as yc
    from .install import clouds_drivers_dir

    n = s.state / "neutron"
    extensions = clouds_drivers_dir(s) / "neutron" / "extensions"
    conf = _write(
        s.etc / "neutron" / "neutron.conf",
        {
            "DEFAULT": {
                **_common(s),
                "core_plugin": "ml2",
                "service_plugins": "aws_router",
                "api_extensions_path": extensions,
                "auth_strategy": "keystone",
                "api_paste_config": s.venv / "etc" / "neutron" / "api-paste.ini",
                "state_path": n,
                "notify_nova_on_port_status_changes": True,
                "notify_nova_on_port_data_changes": True,
                "api_workers": 1,
                "rpc_workers": 0,
            },
            "database": {"connection": s.db_url("neutron")},
            "keystone_authtoken": _authtoken(s, "neutron"),
            "nova": service_client(s, "nova"),
            # The Clouds API (catalog service "clouds") as the service user neutron.
            "clouds": {**service_client(s, "neutron"), "valid_interfaces": "internal,public",
                       "timeout": 10},
            "aws": {"endpoint_url": AWS.url(AWS.port()), "max_attempts": 2},
            "yandex": {"endpoint": YANDEX.url(YANDEX.port()),
                       "root_certificates_file": yc.ca_file(s.state), "timeout": 10},
            "oslo_concurrency": {"lock_path": n / "locks"},
            "oslo_messaging_notifications": {"driver": "noop"},
        },
    )
    ml2 = _write(
        s.etc / "neutron" / "ml2_conf.ini",
        {
            "ml2": {
                "type_drivers": "local,flat,vlan",
                "project_network_types": "local",
                "mechanism_drivers": "aws,aos_bindall",
                "extension_drivers": "port_security,subnet_az",
            },
            "ml2_type_flat": {"flat_networks": "*"},
            "ml2_type_vlan": {"network_vlan_ranges": "physnet1:100:199"},
        },
    )
    return [conf, ml2]


#: Hosts whose nova-compute runs a clouds compute driver, with spec 000's ``compute_driver``.
CLOUD_COMPUTES = {"aws-compute": "clouds_drivers.nova.virt.ec2.EC2Driver",
                  "yandex-compute": "clouds_drivers.nova.virt.yandex.driver.YandexDriver"}
#: Spec 000's scheduler filters (nova.conf on the control node), less AvailabilityZoneFilter:
#: Nova removed it (zones are a Placement pre-filter since Xena) and refuses to start with
#: an unknown filter name.
AVAILABLE_FILTERS = ["nova.scheduler.filters.all_filters",
                     "clouds_drivers.nova.scheduler.filter.CloudProjectFilter"]
ENABLED_FILTERS = ("ComputeFilter,ComputeCapabilitiesFilter,ImagePropertiesFilter,"
                   "ServerGroupAntiAffinityFilter,ServerGroupAffinityFilter,CloudProjectFilter")


def nova(s: Settings) -> Path:
    from .doubles.processes import AWS, YANDEX
    from .doubles.ycloud import config as ycloud

    n = s.state / "nova"
    # nova-api's WSGI loader reads api-paste from the first file of OS_NOVA_CONFIG_FILES.
    paste = s.etc / "nova" / "api-paste.ini"
    paste.parent.mkdir(parents=True, exist_ok=True)
    paste.write_text((s.venv / "etc" / "nova" / "api-paste.ini").read_text())
    return _write(
        s.etc / "nova" / "nova.conf",
        {
            "DEFAULT": {
                **_common(s),
                "my_ip": HOST,
                "state_path": n,
                "compute_driver": "aos_sandbox.fakevirt.SandboxFakeDriver",
                # Frequent heartbeats so failure detection can be measured in seconds.
                "report_interval": 2,
                "service_down_time": 20,
                "heal_instance_info_cache_interval": -1,
                "graceful_shutdown_timeout": 5,
                "instance_usage_audit": False,
                "osapi_compute_listen": HOST,
            },
            "api": {"auth_strategy": "keystone"},
            "wsgi": {"api_paste_config": paste},
            "api_database": {"connection": s.db_url("nova_api")},
            "database": {"connection": s.db_url("nova")},
            "keystone_authtoken": _authtoken(s, "nova"),
            "service_user": {**service_auth(s, "nova"), "send_service_user_token": True},
            "placement": service_client(s, "nova"),
            "neutron": {**service_client(s, "nova"), "service_metadata_proxy": False},
            "glance": {"region_name": REGION, "connect_retries": 3, "connect_retry_delay": 0.2},
            "cinder": {**service_client(s, "nova"), "os_region_name": REGION},
            "vnc": {"enabled": False},
            "spice": {"enabled": False},
            "compute": {"live_migration_wait_for_vif_plug": False},
            # Computes reach the database through the conductor: in a mass evacuation it is the
            # busiest process, and one process uses one core.
            "conductor": {"workers": 2},
            "scheduler": {"workers": 1, "discover_hosts_in_cells_interval": -1},
            "filter_scheduler": {"available_filters": AVAILABLE_FILTERS,
                                 "enabled_filters": ENABLED_FILTERS},
            # The clouds drivers' sections (clouds_drivers.service_conf): the Clouds API as
            # the service user nova, and the sandbox's moto as AWS.
            "clouds": {**service_client(s, "nova"), "valid_interfaces": "internal,public",
                       "timeout": 10},
            "aws": {"endpoint_url": AWS.url(AWS.port()), "max_attempts": 2},
            "yandex": {"endpoint": YANDEX.url(YANDEX.port()), "timeout": 10,
                       "root_certificates_file": ycloud.ca_file(s.state)},
            "oslo_concurrency": {"lock_path": n / "locks"},
            "oslo_messaging_notifications": {"driver": "messagingv2"},
            # Versioned only, and no instance.update on every state change (Nova's default):
            # nova-conductor builds those inside Instance.save.
            "notifications": {"notification_format": "versioned"},
        },
    )


#: Spec 000's Cinder backends, in the sections and with the values its guide writes.
CLOUD_BACKENDS = {
    "ebs": "clouds_drivers.cinder.volume.drivers.aws.ebs.EBSDriver",
    "yandex": "clouds_drivers.cinder.volume.drivers.yandex.VolumeDriver",
}
#: The backend of projects without a cloud: Cinder's own logging fake (Cinder's functional
#: tests use it), since LVM needs block devices and root helpers a sandbox has not got.
ORDINARY_BACKEND = ("ordinary", "cinder.tests.fake_driver.FakeLoggingVolumeDriver")
CINDER_HOST = "sandbox"
CINDER_FILTERS = "AvailabilityZoneFilter,CapacityFilter,CapabilitiesFilter,CloudBackendsFilter"


def volume_backends() -> list[str]:
    """cinder.conf's enabled_backends, in order."""
    return [*CLOUD_BACKENDS, ORDINARY_BACKEND[0]]


def cinder(s: Settings) -> Path:
    """cinder.conf: the spec's ``ebs`` and ``yandex`` backends on the sandbox's cloud doubles,
    one ordinary backend, and the spec's scheduler filters."""
    from .doubles.processes import AWS, YANDEX
    from .doubles.ycloud.config import ca_file

    c = s.state / "cinder"
    ordinary, ordinary_driver = ORDINARY_BACKEND
    backends: Sections = {
        name: {"volume_driver": driver, "volume_backend_name": name}
        for name, driver in CLOUD_BACKENDS.items()
    }
    backends[ordinary] = {"volume_driver": ordinary_driver, "volume_backend_name": ordinary}
    # [yandex] is both the spec's backend section and the drivers' Yandex API section.
    backends["yandex"].update({"endpoint": YANDEX.url(YANDEX.port()),
                               "root_certificates_file": ca_file(s.state), "timeout": 10})
    return _write(
        s.etc / "cinder" / "cinder.conf",
        {
            "DEFAULT": {
                **_common(s),
                "host": CINDER_HOST,
                "my_ip": HOST,
                "state_path": c,
                "auth_strategy": "keystone",
                "api_paste_config": s.venv / "etc" / "cinder" / "api-paste.ini",
                "enabled_backends": ",".join(volume_backends()),
                "scheduler_default_filters": CINDER_FILTERS,
                "report_interval": 5,
                "periodic_interval": 10,
                "service_down_time": 30,
                "graceful_shutdown_timeout": 5,
            },
            "database": {"connection": s.db_url("cinder")},
            "keystone_authtoken": _authtoken(s, "cinder"),
            "service_user": {**service_auth(s, "cinder"), "send_service_user_token": True},
            "nova": {**service_client(s, "cinder"), "interface": "public"},
            # The Clouds API (catalog service "clouds") as the service user cinder.
            "clouds": {**service_client(s, "cinder"), "valid_interfaces": "internal,public",
                       "timeout": 10},
            "aws": {"endpoint_url": AWS.url(AWS.port()), "max_attempts": 2},
            **backends,
            "oslo_concurrency": {"lock_path": c / "locks"},
            "oslo_messaging_notifications": {"driver": "noop"},
        },
    )


def compute(s: Settings, host: str) -> Path:
    """Per-host overrides for one nova-compute: its name and its own state_path."""
    state = host_state_path(s, host)
    state.mkdir(parents=True, exist_ok=True)
    driver = {"compute_driver": CLOUD_COMPUTES[host]} if host in CLOUD_COMPUTES else {}
    return _write(
        s.etc / "nova" / f"compute-{host}.conf",
        {
            "DEFAULT": {"host": host, "state_path": state, "instances_path": state / "instances",
                        **driver},
            "oslo_concurrency": {"lock_path": state / "locks"},
        },
    )


def host_state_path(s: Settings, host: str) -> Path:
    return s.state / "hosts" / host


def write_all(s: Settings, hosts: list[str]) -> None:
    """Render every config file (cheap; done on each `up`)."""
    keystone(s)
    placement(s)
    glance(s)
    neutron(s)
    nova(s)
    cinder(s)
    for host in hosts:
        compute(s, host)
