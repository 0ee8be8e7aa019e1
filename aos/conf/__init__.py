"""Configuration loading: ``<dir>/aos.conf`` first, then ``<dir>/<module>.conf`` overrides it.

``<dir>`` is ``/etc/aos`` unless the environment variable ``AOS_CONFIG_DIR`` names another.
Values are validated up front so that a bad value is reported at start-up with its option and
file, not later in the middle of a failover.
"""

from __future__ import annotations

import os
from pathlib import Path

from oslo_config import cfg
from oslo_log import log

from aos.conf import opts as common_opts
from aos.modules import Module

CONFIG_DIR_ENV = "AOS_CONFIG_DIR"
DEFAULT_CONFIG_DIR = "/etc/aos"


class ConfigError(Exception):
    """A configuration problem, phrased as one line an operator can act on."""


def config_dir() -> Path:
    return Path(os.environ.get(CONFIG_DIR_ENV) or DEFAULT_CONFIG_DIR)


def config_files(module: Module) -> list[Path]:
    """The files that apply to ``module``, in the order they are read (later ones win)."""
    base = config_dir()
    return [base / "aos.conf", base / f"{module.name}.conf"]


def new_conf(module: Module) -> cfg.ConfigOpts:
    """A ConfigOpts with every option of the shared core and of ``module`` registered."""
    conf = cfg.ConfigOpts()
    common_opts.register(conf)
    log.register_options(conf)
    for group, options in module.list_opts():
        conf.register_opts(options, group=group)
    return conf


def load(module: Module, args: list[str] | None = None) -> cfg.ConfigOpts:
    conf = new_conf(module)
    files = [str(path) for path in config_files(module) if path.exists()]
    for path in files:
        if not os.path.isfile(path):
            raise ConfigError(f"cannot read config file {path}: not a regular file")
        if not os.access(path, os.R_OK):
            raise ConfigError(f"cannot read config file {path}: permission denied")
    try:
        conf(
            args=args or [],
            project="aos",
            prog=module.service_prefix,
            default_config_files=files,
            default_config_dirs=[],
            validate_default_values=True,
        )
    except cfg.ConfigFileParseError as exc:
        raise ConfigError(f"cannot parse config file {exc.config_file}: {exc.msg}") from exc
    except cfg.Error as exc:
        raise ConfigError(f"configuration error: {exc}") from exc
    validate(conf)
    return conf


def validate(conf: cfg.ConfigOpts) -> None:
    """Read every option once so type and range errors surface now, naming option and file."""
    for name in conf:
        _check(conf, conf, name, None)


def _check(conf: cfg.ConfigOpts, scope, name: str, group: str | None) -> None:
    try:
        value = scope[name]
    except (cfg.ConfigFileValueError, ValueError) as exc:
        raise ConfigError(
            f"invalid value for [{group or 'DEFAULT'}] {name} in "
            f"{_location(conf, name, group)}: {_reason(exc)}"
        ) from exc
    if isinstance(value, cfg.ConfigOpts.GroupAttr):
        for opt_name in value:
            _check(conf, value, opt_name, name)


def _location(conf: cfg.ConfigOpts, name: str, group: str | None) -> str:
    for path in reversed(conf.default_config_files or []):
        parser = cfg.ConfigParser(path, {})
        try:
            parser.parse()
        except Exception:  # noqa: BLE001 - a file we cannot re-read just is not the culprit
            continue
        section = parser.sections.get(group or "DEFAULT", {})
        if name in section:
            return path
    return "the command line or environment"


def _reason(exc: Exception) -> str:
    text = str(exc)
    return text.split(" is not valid: ", 1)[-1]


def state_path(conf: cfg.ConfigOpts) -> Path:
    return Path(conf.state_path)


def secret_key_file(conf: cfg.ConfigOpts) -> Path:
    return Path(conf.secret_key_file or state_path(conf) / "secret.key")


def log_dir(conf: cfg.ConfigOpts, module: Module) -> Path:
    return Path(conf.log_root) / module.log_dir_name
