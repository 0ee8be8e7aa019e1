"""Private MariaDB and RabbitMQ instances for the sandbox (never the system services).

Both bind 127.0.0.1 only and keep their data under $STATE. RabbitMQ needs an Erlang port
mapper (epmd); we start our own on a private loopback port so that nothing outlives `down`.
"""

from __future__ import annotations

import socket
import subprocess
import time
from pathlib import Path

from . import procs
from .config import HOST, Settings
from .procs import SetupError

MARIADBD = "/usr/sbin/mariadbd"
RABBIT_DIR = Path("/usr/lib/rabbitmq/bin")
DATABASES = ["keystone", "placement", "glance", "neutron", "nova_api", "nova", "nova_cell0",
             "cinder"]


def port_open(port: int, host: str = HOST) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def wait_for(check, what: str, timeout: float, log: Path | None = None, pid_of=None) -> None:
    """Poll `check()` until true; fail early if the daemon (`pid_of()`) died."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        if pid_of is not None and pid_of() is None:
            raise SetupError(f"{what} died while starting", log)
        time.sleep(0.2)
    raise SetupError(f"{what} not ready after {timeout:.0f}s", log)


# --- MariaDB -----------------------------------------------------------------------------


def _datadir(s: Settings) -> Path:
    return s.state / "mysql"


def mysql_client(s: Settings, sql: str) -> str:
    """Run SQL as root over the private socket; return the tab-separated output."""
    out = subprocess.run(
        [
            "mariadb",
            "--no-defaults",
            "-S",
            str(s.mysql_socket),
            "-uroot",
            f"-p{s.secrets['mysql']}",
            "-N",
            "-B",
            "-e",
            sql,
        ],
        capture_output=True,
        text=True,
    )
    if out.returncode != 0:
        raise SetupError(f"mariadb: {out.stderr.strip()}", s.log_dir / "mariadb.log")
    return out.stdout


def start_mariadb(s: Settings) -> None:
    """Initialise the datadir once, start mariadbd, set the root password once."""
    name, log = "mariadb", s.log_dir / "mariadb.log"
    datadir = _datadir(s)
    fresh = not (datadir / "mysql").exists()
    if fresh:
        datadir.mkdir(parents=True, exist_ok=True)
        procs.run(
            [
                "mariadb-install-db",
                "--no-defaults",
                f"--datadir={datadir}",
                "--user=root",
                "--auth-root-authentication-method=normal",
                "--skip-test-db",
            ],
            log,
        )
    if procs.read_pid(s, name) is None:
        procs.spawn(
            s,
            name,
            [
                MARIADBD,
                "--no-defaults",
                f"--datadir={datadir}",
                f"--socket={s.mysql_socket}",
                f"--port={s.mysql_port}",
                f"--bind-address={HOST}",
                "--user=root",
                f"--pid-file={s.run_dir / 'mysqld.real.pid'}",
                "--skip-log-bin",
                "--innodb-flush-log-at-trx-commit=0",
                "--innodb-flush-method=nosync",  # test data: no fsync at all, much faster DDL
                "--skip-sync-frm",
                "--skip-innodb-file-per-table",
                "--innodb-doublewrite=0",
                "--innodb-buffer-pool-size=64M",
                "--max-connections=500",
                "--skip-name-resolve",
                "--character-set-server=utf8mb4",
                "--collation-server=utf8mb4_general_ci",
            ],
        )
    wait_for(
        lambda: s.mysql_socket.exists() and port_open(s.mysql_port),
        "mariadb",
        60,
        log,
        lambda: procs.read_pid(s, name),
    )
    if fresh:
        _set_root_password(s)
    mysql_client(s, ";".join(f"CREATE DATABASE IF NOT EXISTS {db}" for db in DATABASES))


def _set_root_password(s: Settings) -> None:
    """Give every root account (localhost, 127.0.0.1, ::1, ...) the sandbox password."""
    pw = s.secrets["mysql"]
    base = ["mariadb", "--no-defaults", "-S", str(s.mysql_socket), "-uroot", "-N", "-B", "-e"]
    hosts = subprocess.run(
        [*base, "SELECT host FROM mysql.user WHERE user='root'"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    sql = [f"DROP USER IF EXISTS root@'{h}'" for h in hosts if h not in ("localhost", "%")]
    sql += [f"ALTER USER root@localhost IDENTIFIED BY '{pw}'"]
    sql += [
        f"CREATE USER IF NOT EXISTS root@'%' IDENTIFIED BY '{pw}'",
        "GRANT ALL PRIVILEGES ON *.* TO root@'%' WITH GRANT OPTION",
        "FLUSH PRIVILEGES",
    ]
    subprocess.run([*base, ";".join(sql)], check=True)


# --- RabbitMQ ----------------------------------------------------------------------------


def _rabbit_env(s: Settings) -> dict[str, str]:
    base = s.state / "rabbitmq"
    return {
        "HOME": str(base),  # the Erlang cookie lives here, private to this sandbox
        "RABBITMQ_NODENAME": "aos-sandbox@localhost",
        "RABBITMQ_NODE_IP_ADDRESS": HOST,
        "RABBITMQ_NODE_PORT": str(s.rabbit_port),
        "RABBITMQ_DIST_PORT": str(s.rabbit_dist_port),
        "RABBITMQ_MNESIA_BASE": str(base / "mnesia"),
        "RABBITMQ_LOG_BASE": str(base / "log"),
        "RABBITMQ_CONFIG_FILE": str(base / "rabbitmq"),
        "RABBITMQ_ENABLED_PLUGINS_FILE": str(base / "enabled_plugins"),
        "RABBITMQ_PID_FILE": str(base / "rabbitmq.pid"),
        "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS": "-kernel inet_dist_use_interface {127,0,0,1}",
        "RABBITMQ_CTL_ERL_ARGS": "-kernel inet_dist_use_interface {127,0,0,1}",
        "ERL_EPMD_PORT": str(s.epmd_port),
        "ERL_EPMD_ADDRESS": HOST,
    }


def start_rabbitmq(s: Settings, wait: bool = True) -> None:
    """Start epmd and a private RabbitMQ node whose default user is `sandbox`."""
    base = s.state / "rabbitmq"
    (base / "log").mkdir(parents=True, exist_ok=True)
    (base / "enabled_plugins").write_text("[].\n")
    (base / "rabbitmq.conf").write_text(
        f"listeners.tcp.default = {HOST}:{s.rabbit_port}\n"
        "default_user = sandbox\n"
        f"default_pass = {s.secrets['rabbit']}\n"
        "loopback_users = none\n"
        "disk_free_limit.absolute = 50MB\n"
        "vm_memory_high_watermark.absolute = 1GB\n"
    )
    env = _rabbit_env(s)
    if procs.read_pid(s, "epmd") is None:
        procs.spawn(s, "epmd", ["epmd", "-address", HOST, "-port", str(s.epmd_port)], env=env)
    wait_for(
        lambda: port_open(s.epmd_port),
        "epmd",
        15,
        s.log_dir / "epmd.log",
        lambda: procs.read_pid(s, "epmd"),
    )
    if procs.read_pid(s, "rabbitmq") is None:
        procs.spawn(s, "rabbitmq", [RABBIT_DIR / "rabbitmq-server"], env=env)
    if not wait:
        return
    wait_for(
        lambda: port_open(s.rabbit_port),
        "rabbitmq",
        90,
        s.log_dir / "rabbitmq.log",
        lambda: procs.read_pid(s, "rabbitmq"),
    )


INFRA = ["mariadb", "epmd", "rabbitmq"]
