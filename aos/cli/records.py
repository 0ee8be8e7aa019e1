"""What every module's commands share: one API request, and JSON records as cliff output."""

from __future__ import annotations

import argparse
from collections.abc import Iterable, Sequence
from typing import Any
from urllib.parse import quote

from cliff import columns as cliff_columns
from osc_lib.command import command


def call(app: Any, service_type: str, method: str, path: str, body: dict | None = None,
         params: dict[str, Any] | None = None) -> Any:
    """One request to a module's API; API errors arrive as a one-line CommandError."""
    kwargs: dict[str, Any] = {}
    if body is not None:
        kwargs["json"] = body
    if params:
        kwargs["params"] = {key: value for key, value in params.items() if value is not None}
    return app.client_manager.aos.request(service_type, method, path, **kwargs)


def positive_int(value: str) -> int:
    """argparse type of a count or size: a whole number above 0, else one readable line."""
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number < 1:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number above 0")
    return number


def path(*segments: str) -> str:
    """An API path with each name quoted, so a name can never reach another route."""
    return "/" + "/".join(quote(segment, safe="") for segment in segments)


def title(field: str) -> str:
    """``state_since`` → ``State since``: the column heading of a JSON field."""
    return field.replace("_", " ").capitalize()


class JSONColumn(cliff_columns.FormattableColumn):
    """A nested value: lines of text in a table, plain JSON with ``-f json``/``-f yaml``."""

    def human_readable(self) -> str:
        value = self._value
        if isinstance(value, dict):
            return "\n".join(f"{key}={item}" for key, item in value.items())
        if isinstance(value, list):
            return "\n".join(_one_line(item) for item in value)
        return "" if value is None else str(value)

    def machine_readable(self) -> Any:
        return self._value


def _one_line(item: Any) -> str:
    if isinstance(item, dict):
        return "  ".join(str(value) for value in item.values() if value not in (None, ""))
    return str(item)


def show(record: dict[str, Any]) -> tuple[tuple[str, ...], tuple[Any, ...]]:
    """A ShowOne result: every field of the record, nested ones through JSONColumn."""
    fields = tuple(record)
    values = tuple(JSONColumn(record[f]) if isinstance(record[f], (dict, list)) else record[f]
                   for f in fields)
    return tuple(title(f) for f in fields), values


def rows(records: Iterable[dict[str, Any]], fields: Sequence[str]
         ) -> tuple[tuple[str, ...], list[tuple[Any, ...]]]:
    """A Lister result with the chosen fields of each record."""
    return (tuple(title(f) for f in fields),
            [tuple(record.get(f) for f in fields) for record in records])


class ShowCommand(command.ShowOne):
    """A command that prints one API record (``-f json`` prints it as JSON)."""

    def record(self, parsed_args: argparse.Namespace) -> dict[str, Any]:
        raise NotImplementedError

    def take_action(self, parsed_args: argparse.Namespace):
        return show(self.record(parsed_args))


class ListCommand(command.Lister):
    """A command that prints API records as rows; ``fields`` picks and orders the columns."""

    fields: Sequence[str] = ()

    def records(self, parsed_args: argparse.Namespace) -> list[dict[str, Any]]:
        raise NotImplementedError

    def take_action(self, parsed_args: argparse.Namespace):
        return rows(self.records(parsed_args), self.fields)
