"""``openstack aos configure -n MODULE``: first-time set-up of a module on this host."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from osc_lib import exceptions
from osc_lib.command import command

from aos import conf as aos_conf
from aos import crypto
from aos.cli.common import add_module_argument, load_module
from aos.conf import samples


class Configure(command.Command):
    """Install a module's sample config and create its config, log and state directories.

    Writes <config dir>/aos.conf and <module>.conf from the samples only when they do not
    exist (an edited file is never overwritten); refreshes the *.conf.example files; creates the
    key that encrypts secrets. Safe to run again. The config dir is /etc/aos unless
    AOS_CONFIG_DIR names another.
    """

    auth_required = False

    def get_parser(self, prog_name: str) -> argparse.ArgumentParser:
        parser = super().get_parser(prog_name)
        add_module_argument(parser)
        return parser

    def take_action(self, parsed_args: argparse.Namespace) -> None:
        module, _ = load_module(parsed_args.module)
        config_dir = aos_conf.config_dir()
        try:
            for name in ("aos", module.name):
                self._install_sample(config_dir, name)
            _, conf = load_module(module.name)
            for directory in (aos_conf.log_dir(conf, module), aos_conf.state_path(conf)):
                self._make_dir(directory)
            key_file = aos_conf.secret_key_file(conf)
            created = crypto.create_key_file(key_file)
            self._report(key_file, "created" if created else "exists, kept")
        except OSError as exc:
            raise exceptions.CommandError(
                f"cannot configure {module.name}: {exc.strerror}: {exc.filename}"
            ) from exc

    def _install_sample(self, config_dir: Path, name: str) -> None:
        config_dir.mkdir(parents=True, exist_ok=True)
        text = samples.render(name)
        example = config_dir / f"{name}.conf.example"
        example.write_text(text)
        self._report(example, "written")
        target = config_dir / f"{name}.conf"
        if target.exists():
            self._report(target, "exists, kept")
        else:
            _write_private(target, text)
            self._report(target, "created from the sample (mode 0600: it will hold passwords)")

    def _make_dir(self, path: Path) -> None:
        existed = path.is_dir()
        path.mkdir(parents=True, exist_ok=True)
        self._report(path, "exists" if existed else "created")

    def _report(self, path: Path, what: str) -> None:
        self.app.stdout.write(f"{path}: {what}\n")


def _write_private(path: Path, text: str) -> None:
    """Create ``path`` readable by its owner only, from the first byte: the file will hold
    database and service passwords (a chmod after writing would leave a window)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(text)
