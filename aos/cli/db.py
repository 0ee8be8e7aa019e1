"""``openstack aos db list|migrate``: inspect and move a module's database schema."""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import Iterator

from osc_lib import exceptions
from osc_lib.command import command

from aos import db
from aos.cli.common import add_module_argument, load_module
from aos.db.migrations import MigrationError, Migrator


@contextlib.contextmanager
def _migrator(module_name: str) -> Iterator[Migrator]:
    module, conf = load_module(module_name)
    try:
        engine = db.create_engine(db.database_url(conf, module))
        try:
            yield Migrator(module, engine)
        finally:
            engine.dispose()
    except (db.DatabaseError, MigrationError) as exc:
        raise exceptions.CommandError(str(exc)) from exc


class DbList(command.Lister):
    """List a module's database migrations; the applied one is marked.

    Save this list before an upgrade: its number is what ``db migrate --migration`` takes to
    roll back.
    """

    auth_required = False

    def get_parser(self, prog_name: str) -> argparse.ArgumentParser:
        parser = super().get_parser(prog_name)
        add_module_argument(parser)
        return parser

    def take_action(self, parsed_args: argparse.Namespace):
        with _migrator(parsed_args.module) as migrator:
            current = migrator.current()
            rows = [
                (m.number, m.description, m.number <= current, m.number == current)
                for m in migrator.migrations()
            ]
        return ("Migration", "Description", "Applied", "Current"), rows


class DbMigrate(command.Command):
    """Migrate a module's database to the newest migration, or up or down to --migration N.

    Downgrading to N undoes every later migration (their data is lost); 0 removes every table.
    """

    auth_required = False

    def get_parser(self, prog_name: str) -> argparse.ArgumentParser:
        parser = super().get_parser(prog_name)
        add_module_argument(parser)
        parser.add_argument(
            "--migration",
            metavar="N",
            type=_migration_number,
            help="Target migration number (see 'openstack aos db list'); default: the newest.",
        )
        parser.add_argument(
            "--yes",
            action="store_true",
            help="Do not ask before a downgrade (it deletes the data of the undone "
            "migrations; 0 deletes every table).",
        )
        return parser

    def take_action(self, parsed_args: argparse.Namespace) -> None:
        with _migrator(parsed_args.module) as migrator:
            target = parsed_args.migration
            if target is not None and target < migrator.current() and not parsed_args.yes:
                self._confirm_downgrade(migrator, target)
            before, after = migrator.migrate(target)
            target = f"{migrator.module.name} database ({db.safe_url(migrator.engine.url)})"
        if before == after:
            self.app.stdout.write(f"{target} is already at migration {after}\n")
        else:
            self.app.stdout.write(f"{target} migrated from {before} to {after}\n")


    def _confirm_downgrade(self, migrator: Migrator, target: int) -> None:
        """Ask on the terminal; without one (a script), refuse: --yes says it was meant."""
        what = ("delete every table" if target == 0
                else f"undo every migration after {target} and delete their data")
        question = (f"This will {what} of the {migrator.module.name} database "
                    f"({db.safe_url(migrator.engine.url)}). Type 'yes' to go on: ")
        stdin = self.app.stdin
        if not stdin.isatty():
            raise exceptions.CommandError(f"refusing to {what} without confirmation: "
                                          "pass --yes")
        self.app.stdout.write(question)
        self.app.stdout.flush()
        if stdin.readline().strip().lower() != "yes":
            raise exceptions.CommandError("not confirmed; nothing changed")


def _migration_number(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        message = f"migration must be a whole number, not {value!r}"
        raise argparse.ArgumentTypeError(message) from None
    if number < 0:
        raise argparse.ArgumentTypeError(f"migration must be 0 or more, not {number}")
    return number
