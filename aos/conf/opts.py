"""Options every module shares; they normally live in ``aos.conf``."""

from __future__ import annotations

import os

from oslo_config import cfg

DEFAULT_STATE_PATH = "/var/lib/aos"
DEFAULT_LOG_ROOT = "/var/log/aos"


def _default_state_path() -> str:
    return os.environ.get("AOS_STATE_DIR", DEFAULT_STATE_PATH)


default_opts = [
    cfg.StrOpt(
        "state_path",
        default=_default_state_path(),
        sample_default=DEFAULT_STATE_PATH,
        help="Directory for AOS runtime state: the SQLite fallback database, the key that "
        "encrypts secrets at rest, lock files. The environment variable AOS_STATE_DIR "
        "changes the default.",
    ),
    cfg.StrOpt(
        "log_root",
        default=DEFAULT_LOG_ROOT,
        help="Root of the log directories; each module logs into <log_root>/<module>/ unless "
        "a service's own 'logfile' option names a file.",
    ),
    cfg.StrOpt(
        "secret_key_file",
        help="Fernet key that encrypts secrets (power device and cloud credentials) in the "
        "database. Default: <state_path>/secret.key, created by 'openstack aos configure'. "
        "Every controller must use the same key.",
    ),
    cfg.StrOpt(
        "transport_url",
        secret=True,
        help="Message broker for the worker and beat services, e.g. "
        "amqp://aos:password@controller:5672/aos. Unset: an embedded broker on the module's "
        "database (fine for one controller, not for production).",
    ),
]

coordination_opts = [
    cfg.StrOpt(
        "backend_url",
        secret=True,
        help="tooz coordination backend used to elect the one controller that runs "
        "monitoring, e.g. mysql://aos:password@controller/cloud_manager or "
        "etcd3+http://controller:2379. Unset: file locks under <state_path>/coordination "
        "(one controller only).",
    ),
]

openstack_opts = [
    cfg.StrOpt("auth_url",
               help="Keystone URL of the AOS service user, e.g. http://controller:5000/v3."),
    cfg.StrOpt("username", default="aos", help="Service user name."),
    cfg.StrOpt("password", secret=True, help="Service user password."),
    cfg.StrOpt("project_name", default="service", help="Project of the service user."),
    cfg.StrOpt("user_domain_name", default="Default", help="Domain of the service user."),
    cfg.StrOpt("project_domain_name", default="Default", help="Domain of the project."),
    cfg.StrOpt("region_name", default="RegionOne", help="Region whose endpoints are used."),
    cfg.StrOpt(
        "interface",
        default="internal",
        choices=["public", "internal", "admin"],
        help="Endpoint type used to reach OpenStack services.",
    ),
    cfg.StrOpt("cafile", help="CA bundle for TLS verification of OpenStack endpoints."),
    cfg.FloatOpt(
        "timeout",
        default=30.0,
        min=1,
        help="Seconds an HTTP request to Keystone, Nova or Placement may take (connecting "
        "and each wait for data); a request that takes longer fails, and the step that "
        "made it is retried or reported.",
    ),
]

GROUPS = {
    None: default_opts,
    "coordination": coordination_opts,
    "openstack": openstack_opts,
}


def register(conf: cfg.ConfigOpts) -> None:
    for group, opts in GROUPS.items():
        conf.register_opts(opts, group=group)


def lister(groups: dict[str | None, list[cfg.Opt]]):
    """The ``oslo.config.opts`` entry point of a module whose options are ``groups``."""

    def list_opts() -> list[tuple[str | None, list[cfg.Opt]]]:
        return [(group, list(opts)) for group, opts in groups.items()]

    return list_opts


list_opts = lister(GROUPS)
