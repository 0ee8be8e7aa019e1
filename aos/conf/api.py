"""Options of a module's ``[api]`` section; each module picks its own port."""

from oslo_config import cfg


def api_opts(port: int, service: str) -> list[cfg.Opt]:
    return [
        cfg.HostAddressOpt("host", default="0.0.0.0",
                           help=f"Address the {service} API listens on."),
        cfg.PortOpt("port", default=port, help=f"Port the {service} API listens on."),
        cfg.BoolOpt("audit_enabled", default=True, help="Log every API request (audit trail)."),
        cfg.StrOpt("logfile", default="", help=f"Log file of the {service} API service."),
        cfg.IntOpt("workers", default=2, min=1, help="API server worker processes."),
        cfg.StrOpt(
            "auth_strategy",
            default="keystone",
            choices=[
                ("keystone", "Keystone tokens checked by keystonemiddleware."),
                ("noauth", "No authentication; every caller is admin. Tests only."),
            ],
            help="How API callers are authenticated.",
        ),
    ]


def database_opts(database_name: str, help_text: str = "Database connection URL.") -> list[cfg.Opt]:
    return [
        cfg.StrOpt(
            "url",
            secret=True,
            sample_default=(
                f"mysql+pymysql://aos:password@localhost:3306/{database_name}?charset=utf8mb4"
            ),
            help=f"{help_text} Unset: an SQLite file under [DEFAULT] state_path, so the "
            "module runs on a laptop; production uses MySQL/MariaDB or PostgreSQL.",
        ),
    ]
